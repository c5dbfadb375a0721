<?php

/*
 * Autoload shim: composer is never run for this app.
 *
 * - If someone did run `composer install` (vendor/autoload.php exists), use it.
 * - Otherwise load Debian's aggregate autoloader of php-laravel-framework
 *   (Laravel 8.83 + Symfony 5.4, Carbon, Monolog, ramsey/uuid, dotenv, ...),
 *   overridable with LARAVEL_AUTOLOAD=/path/to/autoload.php,
 *   and register a PSR-4 loader for App\ => app/ (as composer.json declares).
 */

$vendorAutoload = __DIR__.'/../vendor/autoload.php';

if (is_file($vendorAutoload)) {
    require $vendorAutoload;
} else {
    $illuminate = getenv('LARAVEL_AUTOLOAD') ?: '/usr/share/php/Illuminate/autoload.php';

    if (! is_file($illuminate)) {
        fwrite(STDERR, "Laravel autoloader not found at {$illuminate}: install the Debian package php-laravel-framework (scripts/install-test-deps).\n");
        exit(78);
    }

    require_once $illuminate;

    spl_autoload_register(static function (string $class): void {
        $prefix = 'App\\';

        if (strncmp($class, $prefix, strlen($prefix)) !== 0) {
            return;
        }

        $file = dirname(__DIR__).'/app/'.str_replace('\\', '/', substr($class, strlen($prefix))).'.php';

        if (is_file($file)) {
            require $file;
        }
    });
}
