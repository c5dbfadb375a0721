<?php

namespace App\Jobs;

use App\Support\RunLog;
use Illuminate\Bus\Batchable;
use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Foundation\Bus\Dispatchable;
use Illuminate\Queue\InteractsWithQueue;
use Illuminate\Queue\SerializesModels;

class BatchedJob implements ShouldQueue
{
    use Batchable, Dispatchable, InteractsWithQueue, Queueable, SerializesModels;

    public function __construct(public int $n)
    {
    }

    public function handle()
    {
        if ($this->batchId !== null && optional($this->batch())->cancelled()) {
            return;
        }

        if (RunLog::enabled()) {
            RunLog::record($this, ['n' => $this->n]);
        }
    }
}
