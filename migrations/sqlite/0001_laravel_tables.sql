-- cv-worker migration 0001 (SQLite): Laravel framework tables.
--
-- Shape: Laravel 12 skeleton migrations (laravel/laravel 12.x
-- database/migrations/0001_01_01_00000{0,1,2}_*.php) as compiled by the 12.x
-- SQLiteGrammar; see shared spec laravel-queue.md section 1. Column types,
-- nullability, defaults, primary keys and index names match what
-- `php artisan migrate` produces (SQLite grammar: string -> varchar without
-- length, timestamp -> datetime, every integer type -> integer, nullable columns
-- carry no NULL keyword).
--
-- Idempotent and non-destructive: a Laravel app may already have created any of
-- these tables (possibly an older shape); existing tables are left untouched
-- apart from adding a missing index.
--
-- Index columns are written unquoted on purpose: SQLite treats a double-quoted
-- name that matches no column as a string literal, so on a pre-existing table
-- lacking the column (e.g. a Laravel <= 7 failed_jobs without uuid)
-- `("uuid")` would silently build a UNIQUE index on a constant and break the
-- table. Unquoted, such a mismatch is a hard "no such column" error instead.

-- 0001_01_01_000000_create_users_table.php

create table if not exists "users" (
    "id" integer primary key autoincrement not null,
    "name" varchar not null,
    "email" varchar not null,
    "email_verified_at" datetime,
    "password" varchar not null,
    "remember_token" varchar,
    "created_at" datetime,
    "updated_at" datetime
);
create unique index if not exists "users_email_unique" on "users" (email);

create table if not exists "password_reset_tokens" (
    "email" varchar not null,
    "token" varchar not null,
    "created_at" datetime,
    primary key ("email")
);

create table if not exists "sessions" (
    "id" varchar not null,
    "user_id" integer,
    "ip_address" varchar,
    "user_agent" text,
    "payload" text not null,
    "last_activity" integer not null,
    primary key ("id")
);
create index if not exists "sessions_user_id_index" on "sessions" (user_id);
create index if not exists "sessions_last_activity_index" on "sessions" (last_activity);

-- 0001_01_01_000001_create_cache_table.php

create table if not exists "cache" (
    "key" varchar not null,
    "value" text not null,
    "expiration" integer not null,
    primary key ("key")
);
create index if not exists "cache_expiration_index" on "cache" (expiration);

create table if not exists "cache_locks" (
    "key" varchar not null,
    "owner" varchar not null,
    "expiration" integer not null,
    primary key ("key")
);
create index if not exists "cache_locks_expiration_index" on "cache_locks" (expiration);

-- 0001_01_01_000002_create_jobs_table.php

create table if not exists "jobs" (
    "id" integer primary key autoincrement not null,
    "queue" varchar not null,
    "payload" text not null,
    "attempts" integer not null,
    "reserved_at" integer,
    "available_at" integer not null,
    "created_at" integer not null
);
create index if not exists "jobs_queue_index" on "jobs" (queue);

create table if not exists "job_batches" (
    "id" varchar not null,
    "name" varchar not null,
    "total_jobs" integer not null,
    "pending_jobs" integer not null,
    "failed_jobs" integer not null,
    "failed_job_ids" text not null,
    "options" text,
    "cancelled_at" integer,
    "created_at" integer not null,
    "finished_at" integer,
    primary key ("id")
);

create table if not exists "failed_jobs" (
    "id" integer primary key autoincrement not null,
    "uuid" varchar not null,
    "connection" text not null,
    "queue" text not null,
    "payload" text not null,
    "exception" text not null,
    "failed_at" datetime not null default CURRENT_TIMESTAMP
);
create unique index if not exists "failed_jobs_uuid_unique" on "failed_jobs" (uuid);
