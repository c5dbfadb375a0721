-- cv-worker migration 0002 (SQLite): CV Builder tables.
--
-- Shape: shared spec cv-jobs.md ("Application tables"), written the way Laravel 12's
-- SQLiteGrammar compiles the equivalent blueprint: id() -> integer primary key
-- autoincrement, foreignId()/bigInteger()/integer() -> integer, json() -> text,
-- string()/char() -> varchar, timestamps()/softDeletes() -> nullable datetime.
-- Foreign keys are declared inside CREATE TABLE exactly as Laravel's SQLite grammar
-- emits ->constrained() (unnamed `foreign key(...) references ...`; SQLite has no
-- ALTER TABLE ADD CONSTRAINT, and Laravel does not name them on SQLite), so they
-- only exist when this file creates the table. They are enforced only on
-- connections with PRAGMA foreign_keys = ON (Laravel's default).
-- generated_files is cv-worker's own table and deliberately has no foreign keys:
-- its rows must survive deletion of the CV / version / user.
-- Requires 0001 (users).
--
-- Index columns are written unquoted on purpose: SQLite treats a double-quoted
-- name that matches no column as a string literal, so on a pre-existing table
-- lacking the column, `("user_id")` would silently build an index on a constant
-- (a UNIQUE one would then allow a single row). Unquoted, such a mismatch is a
-- hard "no such column" error instead.

create table if not exists "cvs" (
    "id" integer primary key autoincrement not null,
    "user_id" integer,
    "title" varchar not null,
    "data" text not null,
    "template" varchar not null default 'classic',
    "created_at" datetime,
    "updated_at" datetime,
    "deleted_at" datetime,
    foreign key("user_id") references "users"("id")
);
create index if not exists "cvs_user_id_index" on "cvs" (user_id);

create table if not exists "cv_versions" (
    "id" integer primary key autoincrement not null,
    "cv_id" integer not null,
    "snapshot_json" text not null,
    "reason" varchar,
    "created_at" datetime,
    foreign key("cv_id") references "cvs"("id")
);
create index if not exists "cv_versions_cv_id_index" on "cv_versions" (cv_id);

create table if not exists "generated_files" (
    "id" integer primary key autoincrement not null,
    "job_uuid" varchar not null,
    "user_id" integer,
    "cv_id" integer,
    "cv_version_id" integer,
    "kind" varchar not null,
    "path" varchar not null,
    "bytes" integer not null,
    "sha256" varchar not null,
    "pages" integer,
    "created_at" datetime
);
create unique index if not exists "generated_files_job_uuid_unique" on "generated_files" (job_uuid);
