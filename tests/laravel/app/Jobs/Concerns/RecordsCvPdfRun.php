<?php

namespace App\Jobs\Concerns;

use App\Support\RunLog;

/**
 * PHP-side body of GenerateCvPdf(Quiet): the PDF itself is cv-worker's business; when a
 * PHP worker runs the job we only record that it ran (if RECORD_RUN_FILE is set).
 * Note: Laravel restores the Cv WITHOUT global scopes, so a soft-deleted CV is still
 * found here (Model::newQueryForRestoration); only a hard-deleted row is "missing".
 */
trait RecordsCvPdfRun
{
    public function handle()
    {
        if (RunLog::enabled()) {
            RunLog::record($this, [
                'cv_id' => $this->cv->getKey(),
                'cv_trashed' => method_exists($this->cv, 'trashed') ? $this->cv->trashed() : false,
                'version_id' => $this->versionId,
                'template' => $this->template,
            ]);
        }
    }
}
