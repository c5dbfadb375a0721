<?php

use Illuminate\Support\Str;

return [

    // queue:restart writes "illuminate:queue:restart" through this store.
    'default' => env('CACHE_DRIVER', env('CACHE_STORE', 'database')),

    'stores' => [

        'array' => [
            'driver' => 'array',
            'serialize' => false,
        ],

        'database' => [
            'driver' => 'database',
            'table' => env('DB_CACHE_TABLE', 'cache'),
            'connection' => env('DB_CACHE_CONNECTION'),
            'lock_connection' => env('DB_CACHE_LOCK_CONNECTION'),
            'lock_table' => env('DB_CACHE_LOCK_TABLE', 'cache_locks'),
        ],

        'file' => [
            'driver' => 'file',
            'path' => storage_path('framework/cache/data'),
        ],

    ],

    /*
     * Laravel 8's default is Str::slug(APP_NAME, '_').'_cache' = "laravel_cache".
     * It is prepended verbatim (no separator): the restart key is stored as
     * "laravel_cacheilluminate:queue:restart".
     */
    'prefix' => env('CACHE_PREFIX', Str::slug(env('APP_NAME', 'laravel'), '_').'_cache'),

];
