<?php

namespace App\Models;

use Illuminate\Database\Eloquent\Model;

class CvVersion extends Model
{
    protected $table = 'cv_versions';

    // cv_versions has created_at but no updated_at.
    const UPDATED_AT = null;

    protected $fillable = ['cv_id', 'snapshot_json', 'reason'];

    protected $casts = [
        'snapshot_json' => 'array',
    ];

    public function cv()
    {
        return $this->belongsTo(Cv::class);
    }
}
