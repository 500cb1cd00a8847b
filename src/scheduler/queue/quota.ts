/**
 * Namespace quotas, enforced at admission: what each namespace's running tasks hold, plus what
 * this plan has started (or is preempting for), against its limits.
 */
import type { NamespaceQuota, QueuedTask, RunningTask } from './types.js';

interface Usage {
  cpus: number;
  memoryBytes: number;
  gpus: number;
  readonly jobs: Set<string>;
}

/** The answer of {@link QuotaLedger.admit}: how many tasks fit, and why the next one does not. */
export interface Admission {
  readonly allowed: number;
  /** Set when `allowed` is below the count asked for. */
  readonly message?: string;
}

export class QuotaLedger {
  readonly #quotas: Readonly<Record<string, NamespaceQuota>>;
  readonly #usage = new Map<string, Usage>();

  /**
   * Resources count every running task (terminating ones still hold theirs); running jobs count
   * distinct job ids with a task that is not terminating.
   */
  constructor(quotas: Readonly<Record<string, NamespaceQuota>> | undefined, running: readonly RunningTask[]) {
    this.#quotas = quotas ?? {};
    for (const task of running) {
      if (task.namespace === null || this.#quotas[task.namespace] === undefined) continue;
      const u = this.#of(task.namespace);
      u.cpus += task.reservations?.cpus ?? 0;
      u.memoryBytes += task.reservations?.memoryBytes ?? 0;
      u.gpus += task.gpus?.length ?? task.reservations?.gpus ?? 0;
      if (task.jobId !== null && !task.terminating) u.jobs.add(task.jobId);
    }
  }

  /**
   * How many of `tasks` (all of one namespace, in order) fit in the quota together. For a gang the
   * caller takes all or none.
   */
  admit(tasks: readonly QueuedTask[]): Admission {
    const ns = tasks[0]?.namespace ?? null;
    const quota = ns === null ? undefined : this.#quotas[ns];
    if (ns === null || quota === undefined) return { allowed: tasks.length };
    const u = this.#of(ns);
    let cpus = u.cpus;
    let memory = u.memoryBytes;
    let gpus = u.gpus;
    const jobs = new Set(u.jobs);
    for (let i = 0; i < tasks.length; i++) {
      const task = tasks[i]!;
      const r = task.reservations;
      cpus += r?.cpus ?? 0;
      memory += r?.memoryBytes ?? 0;
      gpus += r?.gpus ?? 0;
      if (task.jobId !== null) jobs.add(task.jobId);
      const over =
        quota.cpus !== undefined && cpus > quota.cpus
          ? `would use ${cores(cpus)} of ${cores(quota.cpus)} CPUs`
          : quota.memoryBytes !== undefined && memory > quota.memoryBytes
            ? `would use ${bytes(memory)} of ${bytes(quota.memoryBytes)} memory`
            : quota.gpus !== undefined && gpus > quota.gpus
              ? `would use ${gpus} of ${quota.gpus} GPUs`
              : quota.runningJobs !== undefined && jobs.size > quota.runningJobs
                ? `would run ${jobs.size} of ${quota.runningJobs} jobs`
                : undefined;
      if (over !== undefined) return { allowed: i, message: `Quota: namespace ${JSON.stringify(ns)} ${over}` };
    }
    return { allowed: tasks.length };
  }

  /** Count a task this plan starts (or preempts for). */
  charge(task: QueuedTask): void {
    if (task.namespace === null || this.#quotas[task.namespace] === undefined) return;
    const u = this.#of(task.namespace);
    u.cpus += task.reservations?.cpus ?? 0;
    u.memoryBytes += task.reservations?.memoryBytes ?? 0;
    u.gpus += task.reservations?.gpus ?? 0;
    if (task.jobId !== null) u.jobs.add(task.jobId);
  }

  #of(ns: string): Usage {
    let u = this.#usage.get(ns);
    if (u === undefined) this.#usage.set(ns, (u = { cpus: 0, memoryBytes: 0, gpus: 0, jobs: new Set() }));
    return u;
  }
}

/** Millicores as cores: `12`, `0.5`. */
function cores(millicores: number): string {
  return String(Math.round(millicores) / 1000);
}

/** Bytes in the largest binary unit that reads well: `12 GiB`, `512 MiB`. */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${Math.round(v * 10) / 10} ${units[i]}`;
}
