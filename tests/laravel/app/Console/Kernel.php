<?php

namespace App\Console;

use Illuminate\Console\Scheduling\Schedule;
use Illuminate\Foundation\Console\Kernel as ConsoleKernel;

class Kernel extends ConsoleKernel
{
    /**
     * The interop commands used by cv-worker's Rust tests (all print JSON on stdout).
     *
     * @var array
     */
    protected $commands = [
        Commands\InteropDispatch::class,
        Commands\InteropBatch::class,
        Commands\InteropFindBatch::class,
        Commands\InteropSeedCv::class,
    ];

    protected function schedule(Schedule $schedule)
    {
        //
    }

    protected function commands()
    {
        //
    }
}
