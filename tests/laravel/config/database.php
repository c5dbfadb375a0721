<?php

use Illuminate\Support\Str;

/*
 * DB_CONNECTION picks the connection: pgsql | mysql | sqlite.
 * Alternatively DATABASE_URL (e.g. postgres://root@127.0.0.1:5432/test,
 * mysql://root@127.0.0.1:3306/test, sqlite:////abs/path.sqlite -- four slashes) alone is enough:
 * the connection is then derived from its scheme. DB_* variables win where both are set
 * only for DB_CONNECTION; the URL's parts override DB_HOST/DB_PORT/... (Laravel rule).
 */
$url = env('DATABASE_URL');
$schemes = ['postgres' => 'pgsql', 'postgresql' => 'pgsql', 'pgsql' => 'pgsql',
    'mysql' => 'mysql', 'mariadb' => 'mysql', 'mysql2' => 'mysql',
    'sqlite' => 'sqlite', 'sqlite3' => 'sqlite'];
$default = env('DB_CONNECTION');
if (! $default) {
    $scheme = $url ? strtolower((string) parse_url(str_replace('sqlite:///', 'sqlite://localhost/', $url), PHP_URL_SCHEME)) : null;
    $default = $schemes[$scheme] ?? 'sqlite';
}
$urlFor = function (string $name) use ($url, $default) {
    return $name === $default ? $url : null;
};

return [

    'default' => $default,

    'connections' => [

        'sqlite' => [
            'driver' => 'sqlite',
            'url' => $urlFor('sqlite'),
            'database' => env('DB_DATABASE', database_path('database.sqlite')),
            'prefix' => '',
            'foreign_key_constraints' => env('DB_FOREIGN_KEYS', true),
        ],

        'mysql' => [
            'driver' => 'mysql',
            'url' => $urlFor('mysql'),
            'host' => env('DB_HOST', '127.0.0.1'),
            'port' => env('DB_PORT', '3306'),
            'database' => env('DB_DATABASE', 'test'),
            'username' => env('DB_USERNAME', 'root'),
            'password' => env('DB_PASSWORD', ''),
            'unix_socket' => env('DB_SOCKET', ''),
            'charset' => 'utf8mb4',
            'collation' => 'utf8mb4_unicode_ci',
            'prefix' => '',
            'prefix_indexes' => true,
            'strict' => true,
            'engine' => null,
            'options' => extension_loaded('pdo_mysql') ? array_filter([
                PDO::MYSQL_ATTR_SSL_CA => env('MYSQL_ATTR_SSL_CA'),
            ]) : [],
        ],

        'pgsql' => [
            'driver' => 'pgsql',
            'url' => $urlFor('pgsql'),
            'host' => env('DB_HOST', '127.0.0.1'),
            'port' => env('DB_PORT', '5432'),
            'database' => env('DB_DATABASE', 'test'),
            'username' => env('DB_USERNAME', 'root'),
            'password' => env('DB_PASSWORD', ''),
            'charset' => 'utf8',
            'prefix' => '',
            'prefix_indexes' => true,
            'schema' => env('DB_SCHEMA', 'public'),
            'sslmode' => env('DB_SSLMODE', 'prefer'),
        ],

    ],

    'migrations' => 'migrations',

    'redis' => [
        'client' => env('REDIS_CLIENT', 'phpredis'),
        'options' => [
            'cluster' => env('REDIS_CLUSTER', 'redis'),
            'prefix' => env('REDIS_PREFIX', Str::slug(env('APP_NAME', 'laravel'), '_').'_database_'),
        ],
        'default' => [
            'url' => env('REDIS_URL'),
            'host' => env('REDIS_HOST', '127.0.0.1'),
            'password' => env('REDIS_PASSWORD', null),
            'port' => env('REDIS_PORT', '6379'),
            'database' => env('REDIS_DB', '0'),
        ],
    ],

];
