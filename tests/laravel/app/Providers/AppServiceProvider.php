<?php

namespace App\Providers;

use Illuminate\Support\ServiceProvider;

class AppServiceProvider extends ServiceProvider
{
    public function register()
    {
        //
    }

    public function boot()
    {
        // Laravel 8's SQLite connector refuses a database file that does not exist yet:
        // create an empty one when a sqlite connection is first opened, so
        // `DB_CONNECTION=sqlite DB_DATABASE=/tmp/x.sqlite php artisan migrate` just works.
        // ($config has DATABASE_URL already merged in.)
        $this->app['db']->extend('sqlite', function ($config, $name) {
            $path = $config['database'] ?? '';
            if ($path !== '' && $path !== ':memory:' && strpos($path, 'mode=memory') === false
                && ! file_exists($path) && is_dir(dirname($path))) {
                @touch($path);
            }

            return $this->app['db.factory']->make($config, $name);
        });
    }
}
