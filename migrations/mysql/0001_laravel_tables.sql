-- cv-worker migration 0001 (MySQL 8 / MariaDB >= 10.3): Laravel framework tables.
--
-- Shape: Laravel 12 skeleton migrations (laravel/laravel 12.x
-- database/migrations/0001_01_01_00000{0,1,2}_*.php) as compiled by the 12.x
-- MySqlGrammar / MariaDbGrammar; see shared spec laravel-queue.md section 1.
-- Column types, nullability, defaults, primary keys and index names match what
-- `php artisan migrate` produces (charset utf8mb4 / utf8mb4_unicode_ci, engine =
-- server default, i.e. InnoDB). Laravel adds secondary indexes with separate
-- ALTER TABLE statements; MySQL has no CREATE INDEX IF NOT EXISTS, so they are
-- declared inside CREATE TABLE here (same resulting table definition).
--
-- Idempotent and non-destructive: a Laravel app may already have created any of
-- these tables (possibly an older shape); existing tables are never altered.

-- 0001_01_01_000000_create_users_table.php

create table if not exists `users` (
    `id` bigint unsigned not null auto_increment primary key,
    `name` varchar(255) not null,
    `email` varchar(255) not null,
    `email_verified_at` timestamp null,
    `password` varchar(255) not null,
    `remember_token` varchar(100) null,
    `created_at` timestamp null,
    `updated_at` timestamp null,
    unique key `users_email_unique` (`email`)
) default character set utf8mb4 collate 'utf8mb4_unicode_ci';

create table if not exists `password_reset_tokens` (
    `email` varchar(255) not null,
    `token` varchar(255) not null,
    `created_at` timestamp null,
    primary key (`email`)
) default character set utf8mb4 collate 'utf8mb4_unicode_ci';

create table if not exists `sessions` (
    `id` varchar(255) not null,
    `user_id` bigint unsigned null,
    `ip_address` varchar(45) null,
    `user_agent` text null,
    `payload` longtext not null,
    `last_activity` int not null,
    primary key (`id`),
    index `sessions_user_id_index` (`user_id`),
    index `sessions_last_activity_index` (`last_activity`)
) default character set utf8mb4 collate 'utf8mb4_unicode_ci';

-- 0001_01_01_000001_create_cache_table.php

create table if not exists `cache` (
    `key` varchar(255) not null,
    `value` mediumtext not null,
    `expiration` int not null,
    primary key (`key`),
    index `cache_expiration_index` (`expiration`)
) default character set utf8mb4 collate 'utf8mb4_unicode_ci';

create table if not exists `cache_locks` (
    `key` varchar(255) not null,
    `owner` varchar(255) not null,
    `expiration` int not null,
    primary key (`key`),
    index `cache_locks_expiration_index` (`expiration`)
) default character set utf8mb4 collate 'utf8mb4_unicode_ci';

-- 0001_01_01_000002_create_jobs_table.php

create table if not exists `jobs` (
    `id` bigint unsigned not null auto_increment primary key,
    `queue` varchar(255) not null,
    `payload` longtext not null,
    `attempts` tinyint unsigned not null,
    `reserved_at` int unsigned null,
    `available_at` int unsigned not null,
    `created_at` int unsigned not null,
    index `jobs_queue_index` (`queue`)
) default character set utf8mb4 collate 'utf8mb4_unicode_ci';

create table if not exists `job_batches` (
    `id` varchar(255) not null,
    `name` varchar(255) not null,
    `total_jobs` int not null,
    `pending_jobs` int not null,
    `failed_jobs` int not null,
    `failed_job_ids` longtext not null,
    `options` mediumtext null,
    `cancelled_at` int null,
    `created_at` int not null,
    `finished_at` int null,
    primary key (`id`)
) default character set utf8mb4 collate 'utf8mb4_unicode_ci';

create table if not exists `failed_jobs` (
    `id` bigint unsigned not null auto_increment primary key,
    `uuid` varchar(255) not null,
    `connection` text not null,
    `queue` text not null,
    `payload` longtext not null,
    `exception` longtext not null,
    `failed_at` timestamp not null default CURRENT_TIMESTAMP,
    unique key `failed_jobs_uuid_unique` (`uuid`)
) default character set utf8mb4 collate 'utf8mb4_unicode_ci';
