-- cv-worker migration 0001 (PostgreSQL): Laravel framework tables.
--
-- Shape: Laravel 12 skeleton migrations (laravel/laravel 12.x
-- database/migrations/0001_01_01_00000{0,1,2}_*.php) as compiled by the 12.x
-- PostgresGrammar; see shared spec laravel-queue.md section 1. Column types,
-- nullability, defaults, primary keys and constraint/index names match what
-- `php artisan migrate` produces. Laravel emits primary keys and unique
-- constraints as separate ALTER TABLE statements; here they are declared inline
-- (same resulting constraints: "<table>_pkey", "users_email_unique",
-- "failed_jobs_uuid_unique").
--
-- Idempotent and non-destructive: a Laravel app may already have created any of
-- these tables (possibly an older shape); existing tables are left untouched
-- apart from adding a missing secondary index.

-- 0001_01_01_000000_create_users_table.php

create table if not exists "users" (
    "id" bigserial not null primary key,
    "name" varchar(255) not null,
    "email" varchar(255) not null,
    "email_verified_at" timestamp(0) without time zone null,
    "password" varchar(255) not null,
    "remember_token" varchar(100) null,
    "created_at" timestamp(0) without time zone null,
    "updated_at" timestamp(0) without time zone null,
    constraint "users_email_unique" unique ("email")
);

create table if not exists "password_reset_tokens" (
    "email" varchar(255) not null,
    "token" varchar(255) not null,
    "created_at" timestamp(0) without time zone null,
    primary key ("email")
);

create table if not exists "sessions" (
    "id" varchar(255) not null,
    "user_id" bigint null,
    "ip_address" varchar(45) null,
    "user_agent" text null,
    "payload" text not null,
    "last_activity" integer not null,
    primary key ("id")
);
create index if not exists "sessions_user_id_index" on "sessions" ("user_id");
create index if not exists "sessions_last_activity_index" on "sessions" ("last_activity");

-- 0001_01_01_000001_create_cache_table.php

create table if not exists "cache" (
    "key" varchar(255) not null,
    "value" text not null,
    "expiration" integer not null,
    primary key ("key")
);
create index if not exists "cache_expiration_index" on "cache" ("expiration");

create table if not exists "cache_locks" (
    "key" varchar(255) not null,
    "owner" varchar(255) not null,
    "expiration" integer not null,
    primary key ("key")
);
create index if not exists "cache_locks_expiration_index" on "cache_locks" ("expiration");

-- 0001_01_01_000002_create_jobs_table.php

create table if not exists "jobs" (
    "id" bigserial not null primary key,
    "queue" varchar(255) not null,
    "payload" text not null,
    "attempts" smallint not null,
    "reserved_at" integer null,
    "available_at" integer not null,
    "created_at" integer not null
);
create index if not exists "jobs_queue_index" on "jobs" ("queue");

create table if not exists "job_batches" (
    "id" varchar(255) not null,
    "name" varchar(255) not null,
    "total_jobs" integer not null,
    "pending_jobs" integer not null,
    "failed_jobs" integer not null,
    "failed_job_ids" text not null,
    "options" text null,
    "cancelled_at" integer null,
    "created_at" integer not null,
    "finished_at" integer null,
    primary key ("id")
);

create table if not exists "failed_jobs" (
    "id" bigserial not null primary key,
    "uuid" varchar(255) not null,
    "connection" text not null,
    "queue" text not null,
    "payload" text not null,
    "exception" text not null,
    "failed_at" timestamp(0) without time zone not null default CURRENT_TIMESTAMP,
    constraint "failed_jobs_uuid_unique" unique ("uuid")
);
