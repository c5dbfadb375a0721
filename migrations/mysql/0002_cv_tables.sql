-- cv-worker migration 0002 (MySQL 8 / MariaDB >= 10.3): CV Builder tables.
--
-- Shape: shared spec cv-jobs.md ("Application tables"), written the way Laravel 12's
-- MySqlGrammar compiles the equivalent blueprint: id() -> bigint unsigned
-- auto_increment primary key, foreignId() -> bigint unsigned, json() -> json (on
-- MariaDB an alias of longtext with a json_valid check), timestamps()/softDeletes()
-- -> timestamp null, foreign keys named `<table>_<column>_foreign` as ->constrained()
-- names them (no ON DELETE action). Indexes and foreign keys are declared inside
-- CREATE TABLE, so they only come into being when this file creates the table; a
-- table the Laravel app already created is never altered.
-- generated_files is cv-worker's own table and deliberately has no foreign keys:
-- its rows must survive deletion of the CV / version / user.
-- Requires 0001 (users).

create table if not exists `cvs` (
    `id` bigint unsigned not null auto_increment primary key,
    `user_id` bigint unsigned null,
    `title` varchar(255) not null,
    `data` json not null,
    `template` varchar(64) not null default 'classic',
    `created_at` timestamp null,
    `updated_at` timestamp null,
    `deleted_at` timestamp null,
    index `cvs_user_id_index` (`user_id`),
    constraint `cvs_user_id_foreign` foreign key (`user_id`) references `users` (`id`)
) default character set utf8mb4 collate 'utf8mb4_unicode_ci';

create table if not exists `cv_versions` (
    `id` bigint unsigned not null auto_increment primary key,
    `cv_id` bigint unsigned not null,
    `snapshot_json` json not null,
    `reason` varchar(255) null,
    `created_at` timestamp null,
    index `cv_versions_cv_id_index` (`cv_id`),
    constraint `cv_versions_cv_id_foreign` foreign key (`cv_id`) references `cvs` (`id`)
) default character set utf8mb4 collate 'utf8mb4_unicode_ci';

create table if not exists `generated_files` (
    `id` bigint unsigned not null auto_increment primary key,
    `job_uuid` varchar(36) not null,
    `user_id` bigint unsigned null,
    `cv_id` bigint unsigned null,
    `cv_version_id` bigint unsigned null,
    `kind` varchar(32) not null,
    `path` varchar(1024) not null,
    `bytes` bigint not null,
    `sha256` char(64) not null,
    `pages` int null,
    `created_at` timestamp null,
    unique key `generated_files_job_uuid_unique` (`job_uuid`)
) default character set utf8mb4 collate 'utf8mb4_unicode_ci';
