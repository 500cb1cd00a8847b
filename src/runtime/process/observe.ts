/**
 * What the driver reports of a task's process, from its meta, its exit record and whether its
 * supervisor still runs. Pure but for the cgroup figures it reads.
 *
 * @module
 */
import { LABELS, type ObservedContainer } from '../types.js';
import { CgroupManager } from './cgroups.js';
import type { ProcessMeta } from './task-dir.js';
import type { ExitRecord } from './wrapper.js';

/** ObservedContainer.error of a process that ended while no agent watched it. */
export const LOST_MESSAGE = 'lost: the process ended while the agent was not watching and left no exit status';

/**
 * The container view of a task's process; `exit` null while none is recorded. `sampledPeak`: its
 * peak memory as sampled from /proc (proc-usage.ts), reported where its cgroup gives none.
 */
export function observeProcess(
  meta: ProcessMeta,
  exit: { readonly record: ExitRecord; readonly at: number } | null,
  running: boolean,
  sampledPeak: number | null = null,
): ObservedContainer {
  const labels = meta.labels;
  const generation = Number(labels[LABELS.generation]);
  const status = meta.startedAt === null ? 'created' : exit ? 'exited' : running ? 'running' : 'dead';
  const cg = meta.cgroupDirs.length > 0 ? CgroupManager.usage(meta.cgroupDirs) : null;
  const cpuMs = cg?.cpuMs ?? exit?.record.cpuMs ?? null;
  const peakMemoryBytes = cg?.peakMemoryBytes || sampledPeak || 0;
  return {
    id: meta.id,
    name: meta.name,
    nodeId: labels[LABELS.nodeId] ?? null,
    taskId: labels[LABELS.taskId] || null,
    generation: Number.isSafeInteger(generation) && labels[LABELS.generation] !== '' ? generation : null,
    labels,
    status,
    exitCode: exit?.record.code ?? null,
    health: 'none',
    healthOutput: '',
    startedAt: meta.startedAt,
    finishedAt: exit?.at ?? null,
    error: exit?.record.error ?? (status === 'dead' ? LOST_MESSAGE : ''),
    oomKilled: exit !== null && CgroupManager.oomKilled(meta.cgroupDirs),
    stopSignal: meta.stopSignal,
    stopGraceMs: meta.stopGraceMs,
    usage: cpuMs !== null ? { cpuMs, peakMemoryBytes } : null,
  };
}

/**
 * Views of ended processes. An ended process's view is final, so list(), called on every
 * runtime pass, builds each once; a view stands while its meta and exit record are the same
 * objects (a restart replaces both).
 */
export class EndedViews {
  readonly #views = new Map<string, { meta: ProcessMeta; exit: object; view: ObservedContainer }>();

  view(
    meta: ProcessMeta,
    exit: { readonly record: ExitRecord; readonly at: number },
    sampledPeak: number | null = null,
  ): ObservedContainer {
    const cached = this.#views.get(meta.id);
    if (cached && cached.meta === meta && cached.exit === exit) return cached.view;
    const view = observeProcess(meta, exit, false, sampledPeak);
    this.#views.set(meta.id, { meta, exit, view });
    return view;
  }

  forget(id: string): void {
    this.#views.delete(id);
  }
}
