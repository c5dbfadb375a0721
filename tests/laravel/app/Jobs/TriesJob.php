<?php

namespace App\Jobs;

use App\Support\RunLog;
use Illuminate\Bus\Batchable;
use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Foundation\Bus\Dispatchable;
use Illuminate\Queue\InteractsWithQueue;
use Illuminate\Queue\SerializesModels;
use RuntimeException;

/**
 * Fills every payload field the worker reads:
 * "maxTries":3,"maxExceptions":2,"backoff":"1,5","timeout":30.
 */
class TriesJob implements ShouldQueue
{
    use Batchable, Dispatchable, InteractsWithQueue, Queueable, SerializesModels;

    public $tries = 3;

    public $backoff = [1, 5];

    public $timeout = 30;

    public $maxExceptions = 2;

    /** When true, handle() throws RuntimeException("tries boom"). */
    public $throws = false;

    public function __construct(bool $throws = false)
    {
        $this->throws = $throws;
    }

    public function handle()
    {
        if (RunLog::enabled()) {
            RunLog::record($this, ['throws' => $this->throws]);
        }

        if ($this->throws) {
            throw new RuntimeException('tries boom');
        }
    }
}
