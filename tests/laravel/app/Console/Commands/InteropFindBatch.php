<?php

namespace App\Console\Commands;

use Illuminate\Console\Command;
use Illuminate\Support\Facades\Bus;

/**
 * php artisan interop:find-batch <id>
 *   → Bus::findBatch($id)->toArray() as JSON, or null:
 *   {"id":...,"name":"","totalJobs":3,"pendingJobs":0,"processedJobs":3,"progress":100,
 *    "failedJobs":0,"options":[],"createdAt":"2026-11-27T15:30:00.000000Z",
 *    "cancelledAt":null,"finishedAt":"..."}
 * --with-ids adds "failedJobIds" (not part of toArray()).
 */
class InteropFindBatch extends Command
{
    use InteropHelpers;

    protected $signature = 'interop:find-batch {id} {--with-ids : add failedJobIds}';

    protected $description = 'Print Bus::findBatch($id)->toArray() as JSON (or null)';

    public function handle()
    {
        $batch = Bus::findBatch($this->argument('id'));

        if ($batch === null) {
            $this->printJson(null);

            return 0;
        }

        $out = $batch->toArray();
        if ($this->option('with-ids')) {
            $out['failedJobIds'] = $batch->failedJobIds;
        }

        $this->printJson($out);

        return 0;
    }
}
