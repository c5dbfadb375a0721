<?php

/*
 * Minimal Laravel 8.83 application for cv-worker's interop tests.
 * Everything is configured through environment variables (see README.md);
 * no .env file is needed (one is read if present).
 */

$basePath = $_ENV['APP_BASE_PATH'] ?? dirname(__DIR__);

// Let tests run from a read-only checkout or in parallel without fighting over
// bootstrap/cache: if it is not writable, keep Laravel's manifest caches in /tmp.
if (! is_writable($basePath.'/bootstrap/cache')) {
    $cacheDir = sys_get_temp_dir().'/cv-worker-laravel-'.md5($basePath);
    if (! is_dir($cacheDir)) {
        @mkdir($cacheDir, 0777, true);
    }
    foreach (['APP_SERVICES_CACHE' => 'services.php', 'APP_PACKAGES_CACHE' => 'packages.php'] as $var => $file) {
        if (getenv($var) === false) {
            putenv("{$var}={$cacheDir}/{$file}");
            $_ENV[$var] = $_SERVER[$var] = "{$cacheDir}/{$file}";
        }
    }
}

$app = new Illuminate\Foundation\Application($basePath);

// APP_STORAGE_PATH moves storage/ (logs, RecordRun default file) elsewhere.
if (($storage = getenv('APP_STORAGE_PATH')) !== false && $storage !== '') {
    $app->useStoragePath($storage);
}

$app->singleton(
    Illuminate\Contracts\Console\Kernel::class,
    App\Console\Kernel::class
);

$app->singleton(
    Illuminate\Contracts\Debug\ExceptionHandler::class,
    App\Exceptions\Handler::class
);

return $app;
