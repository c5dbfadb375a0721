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
 * cv-jobs.md: render a CV to PDF. `cv` serializes as a ModelIdentifier of App\Models\Cv.
 * A missing CV fails the job (no $deleteWhenMissingModels); see GenerateCvPdfQuiet.
 */
class GenerateCvPdf implements ShouldQueue
{
    use Batchable, Dispatchable, InteractsWithQueue, Queueable, RecordsCvPdfRun, SerializesModels;

    public function __construct(
        public Cv $cv,
        public ?int $versionId = null,
        public string $template = 'classic',
    ) {
    }
}
