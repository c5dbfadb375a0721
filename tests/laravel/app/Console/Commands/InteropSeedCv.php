<?php

namespace App\Console\Commands;

use App\Models\User;
use Illuminate\Console\Command;
use Illuminate\Support\Facades\DB;
use Illuminate\Support\Str;

/**
 * php artisan interop:seed-cv --json=/path/cv.json --versions=2
 *   → {"user_id":1,"cv_id":1,"version_ids":[1,2]}
 *
 * The CV document is stored VERBATIM (the file's bytes go into cvs.data, so a test can
 * seed documents with wrong types); default: database/fixtures/cv-basic.json.
 * Needs the cvs / cv_versions tables (cv-worker migrate, or
 * php artisan migrate --path=database/migrations_app).
 */
class InteropSeedCv extends Command
{
    use InteropHelpers;

    protected $signature = 'interop:seed-cv
        {--user-name= : users.name (default: basics.name of the document, else "Test User")}
        {--email= : users.email (default: a unique user-XXXX@example.test)}
        {--user= : use this existing users.id instead of creating a user}
        {--json= : path of the CV document (JSON); default database/fixtures/cv-basic.json}
        {--title= : cvs.title (default: basics.name, else "CV")}
        {--template=classic : cvs.template}
        {--versions=0 : also create N cv_versions rows with the same document}
        {--trashed : soft-delete the CV (deleted_at = now)}';

    protected $description = 'Create a user and a CV; prints {"user_id":..,"cv_id":..}';

    public function handle()
    {
        $path = $this->option('json') ?: base_path('database/fixtures/cv-basic.json');
        $json = @file_get_contents($path);
        if ($json === false) {
            throw new \RuntimeException("cannot read CV document {$path}");
        }
        $doc = json_decode($json, true);
        $name = is_array($doc) && is_array($doc['basics'] ?? null) && is_string($doc['basics']['name'] ?? null)
            ? $doc['basics']['name'] : null;

        $now = now();

        $result = DB::transaction(function () use ($json, $name, $now) {
            if ($this->option('user')) {
                $userId = (int) $this->option('user');
            } else {
                $user = new User;
                $user->name = $this->option('user-name') ?: ($name ?? 'Test User');
                $user->email = $this->option('email') ?: 'user-'.Str::lower(Str::random(12)).'@example.test';
                $user->password = password_hash('password', PASSWORD_BCRYPT, ['cost' => 4]);
                $user->save();
                $userId = $user->getKey();
            }

            $cvId = DB::table('cvs')->insertGetId([
                'user_id' => $userId,
                'title' => $this->option('title') ?: ($name ?? 'CV'),
                'data' => $json,
                'template' => $this->option('template') ?: 'classic',
                'created_at' => $now,
                'updated_at' => $now,
                'deleted_at' => $this->option('trashed') ? $now : null,
            ]);

            $versionIds = [];
            for ($i = 1; $i <= $this->intOption('versions', 0); $i++) {
                $versionIds[] = DB::table('cv_versions')->insertGetId([
                    'cv_id' => $cvId,
                    'snapshot_json' => $json,
                    'reason' => "seed v{$i}",
                    'created_at' => $now,
                ]);
            }

            return ['user_id' => (int) $userId, 'cv_id' => (int) $cvId, 'version_ids' => array_map('intval', $versionIds)];
        });

        $this->printJson($result);

        return 0;
    }
}
