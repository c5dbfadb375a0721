<?php

namespace App\Models;

use Illuminate\Database\Eloquent\Model;

/*
 * Plain Eloquent model on the skeleton's `users` table (no auth scaffolding is loaded).
 */
class User extends Model
{
    protected $table = 'users';

    protected $fillable = ['name', 'email', 'password'];

    protected $hidden = ['password', 'remember_token'];

    protected $casts = [
        'email_verified_at' => 'datetime',
    ];

    public function cvs()
    {
        return $this->hasMany(Cv::class);
    }
}
