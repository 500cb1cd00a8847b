/**
 * How long this disk takes to make a small append durable: the floor under every Raft commit.
 * For the benchmark, not for the hot path.
 */
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDir } from './fs-util.js';

/** Result of {@link measureFsyncLatency}; latencies in microseconds. */
export interface FsyncLatency {
  readonly samples: number;
  readonly p50Micros: number;
  readonly p99Micros: number;
  readonly maxMicros: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Append 4 KiB and fdatasync it `samples` times (default 200) in a scratch file in `dir`, which is
 * removed afterwards, and report the latency percentiles.
 *
 * @example
 * ```ts
 * const { p50Micros, p99Micros } = await measureFsyncLatency('/var/lib/shoal', { samples: 100 });
 * ```
 */
export async function measureFsyncLatency(dir: string, options: { samples?: number } = {}): Promise<FsyncLatency> {
  const samples = options.samples ?? 200;
  if (!Number.isSafeInteger(samples) || samples < 1)
    throw new RangeError(`Cannot measure with ${samples} samples: expected an integer >= 1`);
  await ensureDir(dir, 'benchmark directory');
  const file = join(dir, `fsync-probe-${process.pid}-${Date.now()}.tmp`);
  const block = Buffer.alloc(4096, 0xa5);
  const handle = await open(file, 'w');
  const micros: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const start = process.hrtime.bigint();
      await handle.write(block, 0, block.length, i * block.length);
      await handle.datasync();
      micros.push(Number(process.hrtime.bigint() - start) / 1000);
    }
  } finally {
    await handle.close();
    await unlink(file);
  }
  micros.sort((a, b) => a - b);
  return {
    samples,
    p50Micros: percentile(micros, 50),
    p99Micros: percentile(micros, 99),
    maxMicros: micros[micros.length - 1]!,
  };
}
