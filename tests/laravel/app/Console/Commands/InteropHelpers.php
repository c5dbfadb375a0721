<?php

namespace App\Console\Commands;

use Illuminate\Queue\Queue;

/**
 * Shared helpers of the interop:* commands.
 */
trait InteropHelpers
{
    /** @var string[] payload uuids in creation order */
    protected array $capturedUuids = [];

    /**
     * Record the uuid of every payload this process creates (Queue::createPayloadUsing
     * sees the payload array before it is encoded; returning [] changes nothing).
     */
    protected function captureUuids(): void
    {
        Queue::createPayloadUsing(function ($connection, $queue, $payload) {
            $this->capturedUuids[] = $payload['uuid'];

            return [];
        });
    }

    protected function printJson($value): void
    {
        $this->output->writeln(
            json_encode($value, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE),
            \Symfony\Component\Console\Output\OutputInterface::OUTPUT_RAW
        );
    }

    protected function intOption(string $name, ?int $default = null): ?int
    {
        $value = $this->option($name);
        if ($value === null || $value === '') {
            return $default;
        }
        if (! is_numeric($value)) {
            throw new \InvalidArgumentException("--{$name} must be an integer, got '{$value}'");
        }

        return (int) $value;
    }
}
