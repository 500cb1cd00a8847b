/**
 * The frame a node sends the leader with its tasks' measurements (RPC method `autoscale.stats`),
 * checked at the edge: bounded sizes, finite numbers in range, and errors that name the field.
 * The node names only tasks; the leader finds their service (and checks that the task runs on
 * the sender) in its own state, so a node cannot speak for another's tasks.
 *
 * @module
 */

/** The RPC method nodes send their samples with. */
export const STATS_METHOD = 'autoscale.stats';
/** Samples in one frame: a node sends one frame per sampling round. */
export const MAX_SAMPLES_PER_FRAME = 2_048;
const MAX_CORES = 4_096;
const MAX_BYTES = 2 ** 52;
const MAX_METRIC = 1e15;
const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** One task's measurement; `null` where the node could not measure. */
export interface StatsSample {
  readonly taskId: string;
  /** Cores in use over the node's last sampling interval. */
  readonly cpuCores: number | null;
  readonly memoryBytes: number | null;
  /** The scraped metric (`x-shoal.autoscale.metric`); absent when the service has none. */
  readonly metric?: number | null;
}

export interface StatsFrame {
  readonly v: 1;
  readonly samples: readonly StatsSample[];
}

/** A frame that breaks the format; `message` names the field. */
export class InvalidStatsFrameError extends TypeError {
  override readonly name = 'InvalidStatsFrameError';
  readonly code = 'bad_request';
}

function bad(path: string, detail: string): never {
  throw new InvalidStatsFrameError(`autoscale.stats: ${path}: ${detail}`);
}

function measure(v: unknown, path: string, max: number): number | null {
  if (v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max)
    bad(path, `expected null or a number from 0 to ${max}, got ${typeof v === 'number' ? v : typeof v}`);
  return v;
}

/**
 * The checked frame.
 * @throws {InvalidStatsFrameError} naming the first field that is wrong.
 * @example
 * ```ts
 * parseStatsFrame({ v: 1, samples: [{ taskId: 'a1b2', cpuCores: 0.9, memoryBytes: 1e8 }] });
 * ```
 */
export function parseStatsFrame(payload: unknown): StatsFrame {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) bad('(root)', 'expected an object');
  const frame = payload as Record<string, unknown>;
  if (frame.v !== 1) bad('v', `expected format version 1, got ${String(frame.v)}`);
  const samples = frame.samples;
  if (!Array.isArray(samples)) bad('samples', 'expected a list');
  if (samples.length > MAX_SAMPLES_PER_FRAME)
    bad('samples', `expected at most ${MAX_SAMPLES_PER_FRAME} samples, got ${samples.length}`);
  return {
    v: 1,
    samples: samples.map((s: unknown, i): StatsSample => {
      const path = `samples[${i}]`;
      if (typeof s !== 'object' || s === null) bad(path, 'expected an object');
      const { taskId, cpuCores, memoryBytes, metric } = s as Record<string, unknown>;
      if (typeof taskId !== 'string' || !TASK_ID.test(taskId)) bad(`${path}.taskId`, 'expected a task id');
      return {
        taskId,
        cpuCores: measure(cpuCores, `${path}.cpuCores`, MAX_CORES),
        memoryBytes: measure(memoryBytes, `${path}.memoryBytes`, MAX_BYTES),
        ...(metric === undefined ? {} : { metric: measure(metric, `${path}.metric`, MAX_METRIC) }),
      };
    }),
  };
}
