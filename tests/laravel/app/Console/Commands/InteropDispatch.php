<?php

namespace App\Console\Commands;

use App\Jobs\BatchedJob;
use App\Jobs\ExportUserCvs;
use App\Jobs\FailingJob;
use App\Jobs\GenerateCvPdf;
use App\Jobs\GenerateCvPdfQuiet;
use App\Jobs\NoopJob;
use App\Jobs\RecordRun;
use App\Jobs\TriesJob;
use App\Models\Cv;
use Illuminate\Console\Command;
use Illuminate\Contracts\Bus\Dispatcher;
use Illuminate\Support\Facades\DB;
use Illuminate\Support\Facades\Queue;
use Illuminate\Support\Str;

/**
 * php artisan interop:dispatch noop --count=10000
 *   → {"uuids":[...],"class":"App\\Jobs\\NoopJob","queue":"default","connection":"database","count":10000}
 *
 * count = 1, --single or --delay: each job goes through the normal dispatch() path
 * (Bus dispatcher → DatabaseQueue::push/later, one INSERT each; several are wrapped in one
 * transaction). Otherwise Queue::bulk() in chunks of --chunk rows (one multi-row INSERT
 * each, all in one transaction): same payloads, 10k jobs in about a second.
 */
class InteropDispatch extends Command
{
    use InteropHelpers;

    protected $signature = 'interop:dispatch
        {job : noop|failing|tries|generate-cv|generate-cv-quiet|export|record-run|batched}
        {--count=1 : number of jobs}
        {--queue= : queue name (onQueue); default: the connection default "default"}
        {--delay= : seconds (dispatched one by one with later())}
        {--cv= : cvs.id for generate-cv / generate-cv-quiet (a missing id still dispatches)}
        {--cv-version= : versionId for generate-cv (default null)}
        {--template= : template for generate-cv (default classic)}
        {--user= : userId for export (default 1)}
        {--format= : format for export: json|csv|zip (default json)}
        {--marker= : marker for record-run; "{n}" is replaced by the 1-based index}
        {--throw : tries: make handle() throw}
        {--connection= : queue connection name (default: queue.default = database)}
        {--single : use dispatch() per job even when --count > 1}
        {--chunk=1000 : rows per bulk INSERT}';

    protected $description = 'Dispatch N test jobs; prints {"uuids":[...]}';

    public function handle()
    {
        $kind = $this->argument('job');
        $count = $this->intOption('count', 1);
        $delay = $this->intOption('delay');
        $queue = $this->option('queue');
        $queue = ($queue === null || $queue === '') ? null : $queue;
        $connection = $this->option('connection') ?: config('queue.default');
        $chunk = max(1, $this->intOption('chunk', 1000));

        $factory = $this->factory($kind);

        $this->captureUuids();

        $jobs = [];
        for ($i = 1; $i <= $count; $i++) {
            $job = $factory($i);
            if ($queue !== null) {
                $job->onQueue($queue);
            }
            if ($this->option('connection')) {
                $job->onConnection($connection);
            }
            if ($delay !== null) {
                $job->delay($delay);
            }
            $jobs[] = $job;
        }

        $db = DB::connection(config("queue.connections.{$connection}.connection"));

        if ($count === 1 || $delay !== null || $this->option('single')) {
            $dispatcher = app(Dispatcher::class);
            $db->transaction(function () use ($jobs, $dispatcher) {
                foreach ($jobs as $job) {
                    $dispatcher->dispatch($job);
                }
            });
        } else {
            $queueConnection = Queue::connection($connection);
            $db->transaction(function () use ($jobs, $chunk, $queueConnection, $queue) {
                foreach (array_chunk($jobs, $chunk) as $part) {
                    $queueConnection->bulk($part, '', $queue);
                }
            });
        }

        $this->printJson([
            'uuids' => $this->capturedUuids,
            'class' => get_class($jobs[0] ?? $factory(1)),
            'queue' => $queue ?? config("queue.connections.{$connection}.queue", 'default'),
            'connection' => $connection,
            'count' => count($this->capturedUuids),
        ]);

        return 0;
    }

    private function factory(string $kind): callable
    {
        switch ($kind) {
            case 'noop':
                return fn () => new NoopJob;
            case 'failing':
                return fn () => new FailingJob;
            case 'tries':
                $throws = (bool) $this->option('throw');

                return fn () => new TriesJob($throws);
            case 'batched':
                return fn ($i) => new BatchedJob($i);
            case 'record-run':
                $marker = $this->option('marker') ?: 'run-'.Str::random(8).'-{n}';

                return fn ($i) => new RecordRun(str_replace('{n}', (string) $i, $marker));
            case 'export':
                $user = $this->intOption('user', 1);
                $format = $this->option('format') ?: 'json';

                return fn () => new ExportUserCvs($user, $format);
            case 'generate-cv':
            case 'generate-cv-quiet':
                $class = $kind === 'generate-cv' ? GenerateCvPdf::class : GenerateCvPdfQuiet::class;
                $cv = $this->resolveCv($this->intOption('cv'));
                $version = $this->intOption('cv-version');
                $template = $this->option('template') ?: 'classic';

                return fn () => new $class($cv, $version, $template);
            default:
                throw new \InvalidArgumentException(
                    "unknown job kind '{$kind}' (noop|failing|tries|generate-cv|generate-cv-quiet|export|record-run|batched)"
                );
        }
    }

    /**
     * The Cv to serialize. A missing id (or a missing cvs table) still gives a Cv with that
     * key, so a test can dispatch a job for a CV that does not exist.
     */
    private function resolveCv(?int $id): Cv
    {
        if ($id === null) {
            throw new \InvalidArgumentException('--cv=<cvs.id> is required for generate-cv');
        }

        try {
            $cv = Cv::withTrashed()->find($id);
        } catch (\Illuminate\Database\QueryException $e) {
            $cv = null;
        }

        if ($cv === null) {
            $cv = new Cv;
            $cv->setConnection(DB::getDefaultConnection());
            $cv->setAttribute('id', $id);
            $cv->exists = true;
        }

        return $cv;
    }
}
