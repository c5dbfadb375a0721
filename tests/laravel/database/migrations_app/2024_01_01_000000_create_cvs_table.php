<?php

use Illuminate\Database\Migrations\Migration;
use Illuminate\Database\Schema\Blueprint;
use Illuminate\Support\Facades\Schema;

/*
 * The CV Builder app's own tables (cv-jobs.md "Application tables"), as that app's
 * migration would create them. NOT run by a plain `php artisan migrate`; run with
 *   php artisan migrate --path=database/migrations_app
 * after the default migrations (cvs.user_id references users.id).
 * cv-worker's `migrate` must then detect these and only add what is missing
 * (generated_files).
 */
return new class extends Migration
{
    public function up()
    {
        Schema::create('cvs', function (Blueprint $table) {
            $table->id();
            $table->foreignId('user_id')->nullable()->constrained()->nullOnDelete();
            $table->string('title');
            $table->json('data');
            $table->string('template', 64)->default('classic');
            $table->timestamps();
            $table->softDeletes();
        });

        Schema::create('cv_versions', function (Blueprint $table) {
            $table->id();
            $table->foreignId('cv_id')->constrained()->cascadeOnDelete();
            $table->json('snapshot_json');
            $table->string('reason')->nullable();
            $table->timestamp('created_at')->nullable();
        });
    }

    public function down()
    {
        Schema::dropIfExists('cv_versions');
        Schema::dropIfExists('cvs');
    }
};
