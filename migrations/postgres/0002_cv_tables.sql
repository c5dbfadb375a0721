-- cv-worker migration 0002 (PostgreSQL): CV Builder tables.
--
-- Shape: shared spec cv-jobs.md ("Application tables"), written the way Laravel 12's
-- PostgresGrammar compiles the equivalent blueprint: id() -> bigserial primary key,
-- foreignId() -> bigint, json() -> json, timestamps()/softDeletes() ->
-- timestamp(0) without time zone null, foreign keys named "<table>_<column>_foreign"
-- as ->constrained() names them (no ON DELETE action). The foreign keys are declared
-- inline, so they only come into being when this file creates the table; a table the
-- Laravel app already created is never altered (only a missing index is added).
-- generated_files is cv-worker's own table and deliberately has no foreign keys:
-- its rows must survive deletion of the CV / version / user.
-- Requires 0001 (users).

create table if not exists "cvs" (
    "id" bigserial not null primary key,
    "user_id" bigint null,
    "title" varchar(255) not null,
    "data" json not null,
    "template" varchar(64) not null default 'classic',
    "created_at" timestamp(0) without time zone null,
    "updated_at" timestamp(0) without time zone null,
    "deleted_at" timestamp(0) without time zone null,
    constraint "cvs_user_id_foreign" foreign key ("user_id") references "users" ("id")
);
create index if not exists "cvs_user_id_index" on "cvs" ("user_id");

create table if not exists "cv_versions" (
    "id" bigserial not null primary key,
    "cv_id" bigint not null,
    "snapshot_json" json not null,
    "reason" varchar(255) null,
    "created_at" timestamp(0) without time zone null,
    constraint "cv_versions_cv_id_foreign" foreign key ("cv_id") references "cvs" ("id")
);
create index if not exists "cv_versions_cv_id_index" on "cv_versions" ("cv_id");

create table if not exists "generated_files" (
    "id" bigserial not null primary key,
    "job_uuid" varchar(36) not null,
    "user_id" bigint null,
    "cv_id" bigint null,
    "cv_version_id" bigint null,
    "kind" varchar(32) not null,
    "path" varchar(1024) not null,
    "bytes" bigint not null,
    "sha256" char(64) not null,
    "pages" integer null,
    "created_at" timestamp(0) without time zone null,
    constraint "generated_files_job_uuid_unique" unique ("job_uuid")
);
