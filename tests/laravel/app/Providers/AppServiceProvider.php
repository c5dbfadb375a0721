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
        // create an empty one so `DB_CONNECTION=sqlite DB_DATABASE=/tmp/x.sqlite php artisan migrate` just works.
        $name = config('database.default');
        $connection = (new \Illuminate\Support\ConfigurationUrlParser)
            ->parseConfiguration(config("database.connections.{$name}", []));

        if (($connection['driver'] ?? null) === 'sqlite') {
            $path = $connection['database'] ?? '';
            if ($path !== '' && $path !== ':memory:' && strpos($path, 'mode=memory') === false
                && ! file_exists($path) && is_dir(dirname($path))) {
                @touch($path);
            }
        }
    }
}
