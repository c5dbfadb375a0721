<?php

namespace App\Support;

/*
 * Appends one JSON line per job run, so a Rust test can prove that Laravel's own worker
 * (php artisan queue:work) ran a job -- e.g. one that cv-worker enqueued.
 *
 * File: $RECORD_RUN_FILE, else storage/logs/record-run.jsonl.
 */
class RunLog
{
    public static function path(): string
    {
        $path = getenv('RECORD_RUN_FILE');

        return ($path !== false && $path !== '') ? $path : storage_path('logs/record-run.jsonl');
    }

    public static function enabled(): bool
    {
        $path = getenv('RECORD_RUN_FILE');

        return $path !== false && $path !== '';
    }

    /**
     * @param  object  $job  the job command object (uses InteractsWithQueue)
     */
    public static function record($job, array $fields = []): void
    {
        $queueJob = property_exists($job, 'job') ? $job->job : null;

        $entry = array_merge([
            'class' => get_class($job),
            'uuid' => $queueJob ? $queueJob->uuid() : null,
            'attempts' => $queueJob ? $queueJob->attempts() : null,
            'queue' => $queueJob ? $queueJob->getQueue() : null,
            'connection' => $queueJob ? $queueJob->getConnectionName() : null,
            'job_id' => $queueJob ? $queueJob->getJobId() : null,
            'batch_id' => $job->batchId ?? null,
            'pid' => getmypid(),
            'at' => time(),
        ], $fields);

        $line = json_encode($entry, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_PARTIAL_OUTPUT_ON_ERROR)."\n";

        $fh = fopen(static::path(), 'ab');
        if ($fh === false) {
            throw new \RuntimeException('cannot open '.static::path());
        }
        flock($fh, LOCK_EX);
        fwrite($fh, $line);
        fflush($fh);
        flock($fh, LOCK_UN);
        fclose($fh);
    }

    /** Used by interop:batch --callbacks (then/catch/finally closures). */
    public static function batchEvent(string $event, $batch, ?string $message = null): void
    {
        if (! static::enabled()) {
            return;
        }

        $line = json_encode([
            'batch_event' => $event,
            'batch_id' => $batch->id,
            'pending_jobs' => $batch->pendingJobs,
            'failed_jobs' => $batch->failedJobs,
            'message' => $message,
            'pid' => getmypid(),
            'at' => time(),
        ], JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES)."\n";

        file_put_contents(static::path(), $line, FILE_APPEND | LOCK_EX);
    }
}
