<?php

namespace App\Jobs;

use App\Support\RunLog;
use Illuminate\Bus\Batchable;
use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Foundation\Bus\Dispatchable;
use Illuminate\Queue\InteractsWithQueue;
use Illuminate\Queue\SerializesModels;

/** cv-jobs.md: export a user's CVs as json | csv | zip (the work is cv-worker's). */
class ExportUserCvs implements ShouldQueue
{
    use Batchable, Dispatchable, InteractsWithQueue, Queueable, SerializesModels;

    public function __construct(
        public int $userId,
        public string $format,
    ) {
    }

    public function handle()
    {
        if (RunLog::enabled()) {
            RunLog::record($this, ['user_id' => $this->userId, 'format' => $this->format]);
        }
    }
}
