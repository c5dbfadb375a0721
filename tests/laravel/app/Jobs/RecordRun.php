<?php

namespace App\Jobs;

use App\Support\RunLog;
use Illuminate\Bus\Batchable;
use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Foundation\Bus\Dispatchable;
use Illuminate\Queue\InteractsWithQueue;

/**
 * When PHP runs it, appends {"class":"App\\Jobs\\RecordRun","marker":...,"uuid":...,"props":{...}}
 * to $RECORD_RUN_FILE (default storage/logs/record-run.jsonl).
 *
 * Deliberately WITHOUT SerializesModels, and with #[AllowDynamicProperties]: a command
 * serialized by cv-worker's `enqueue` may carry properties this class does not declare;
 * PHP's unserialize() keeps them as dynamic properties (no PHP 8.2 deprecation) and they
 * are reported under "props".
 */
#[\AllowDynamicProperties]
class RecordRun implements ShouldQueue
{
    use Batchable, Dispatchable, InteractsWithQueue, Queueable;

    public string $marker;

    public function __construct(string $marker)
    {
        $this->marker = $marker;
    }

    public function handle()
    {
        $props = [];
        foreach (get_object_vars($this) as $name => $value) {
            if ($name === 'job') {
                continue;
            }
            $props[$name] = is_object($value) ? ['__class' => get_class($value)] : $value;
        }

        RunLog::record($this, [
            'marker' => $this->marker ?? null,
            'props' => $props,
        ]);
    }
}
