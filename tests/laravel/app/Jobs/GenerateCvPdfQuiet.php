<?php

namespace App\Jobs;

use App\Jobs\Concerns\RecordsCvPdfRun;
use App\Models\Cv;
use Illuminate\Bus\Batchable;
use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Foundation\Bus\Dispatchable;
use Illuminate\Queue\InteractsWithQueue;
use Illuminate\Queue\SerializesModels;

/**
 * Same as GenerateCvPdf, but a missing CV deletes the job quietly
 * ($deleteWhenMissingModels = true, serialized as s:22:"deleteWhenMissingModels";b:1;).
 * A separate class (not a subclass) so its serialized form is self-contained.
 */
class GenerateCvPdfQuiet implements ShouldQueue
{
    use Batchable, Dispatchable, InteractsWithQueue, Queueable, RecordsCvPdfRun, SerializesModels;

    public $deleteWhenMissingModels = true;

    public function __construct(
        public Cv $cv,
        public ?int $versionId = null,
        public string $template = 'classic',
    ) {
    }
}
