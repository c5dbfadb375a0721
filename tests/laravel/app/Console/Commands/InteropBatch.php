<?php

namespace App\Console\Commands;

use App\Jobs\BatchedJob;
use App\Jobs\FailingJob;
use App\Jobs\NoopJob;
use App\Support\RunLog;
use Illuminate\Bus\Batch;
use Illuminate\Console\Command;
use Illuminate\Support\Facades\Bus;

/**
 * php artisan interop:batch --count=10 --fail=2
 *   → {"id":"<ordered uuid>","total_jobs":10,"uuids":[10 uuids],"failing_uuids":[last 2]}
 *
 * --count is the TOTAL number of jobs; the last --fail of them are FailingJob, the rest
 * NoopJob (or BatchedJob(n) with --job=batched).
 */
class InteropBatch extends Command
{
    use InteropHelpers;

    protected $signature = 'interop:batch
        {--count=10 : total jobs in the batch}
        {--fail=0 : how many of them (the last ones) are FailingJob}
        {--allow-failures : ->allowFailures()}
        {--queue= : ->onQueue()}
        {--name= : ->name()}
        {--connection= : ->onConnection() (queue connection name)}
        {--job=noop : the succeeding jobs: noop | batched}
        {--callbacks : add then/catch/finally closures that append {"batch_event":...} to RECORD_RUN_FILE}';

    protected $description = 'Dispatch a Bus::batch of NoopJob/FailingJob; prints {"id":...}';

    public function handle()
    {
        $count = $this->intOption('count', 10);
        $fail = $this->intOption('fail', 0);
        if ($fail > $count || $count < 0 || $fail < 0) {
            throw new \InvalidArgumentException('need 0 <= --fail <= --count');
        }

        $jobs = [];
        for ($i = 1; $i <= $count; $i++) {
            if ($i > $count - $fail) {
                $jobs[] = new FailingJob;
            } elseif ($this->option('job') === 'batched') {
                $jobs[] = new BatchedJob($i);
            } else {
                $jobs[] = new NoopJob;
            }
        }

        $pending = Bus::batch($jobs);

        if ($this->option('name') !== null) {
            $pending->name($this->option('name'));
        }
        if ($this->option('queue')) {
            $pending->onQueue($this->option('queue'));
        }
        if ($this->option('connection')) {
            $pending->onConnection($this->option('connection'));
        }
        if ($this->option('allow-failures')) {
            $pending->allowFailures();
        }
        if ($this->option('callbacks')) {
            $pending->then(function (Batch $batch) {
                RunLog::batchEvent('then', $batch);
            })->catch(function (Batch $batch, \Throwable $e) {
                RunLog::batchEvent('catch', $batch, $e->getMessage());
            })->finally(function (Batch $batch) {
                RunLog::batchEvent('finally', $batch);
            });
        }

        $this->captureUuids();

        $batch = $pending->dispatch();

        $this->printJson([
            'id' => $batch->id,
            'name' => $batch->name,
            'total_jobs' => $batch->totalJobs,
            'uuids' => $this->capturedUuids,
            'failing_uuids' => array_slice($this->capturedUuids, $count - $fail),
        ]);

        return 0;
    }
}
