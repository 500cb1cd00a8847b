/**
 * A rollout test bench: one replicated service `app_web` in a BatchSim (real apply, real
 * controllers, virtual time), whose tasks run for ever unless the image's tag says otherwise:
 * `web:bad` exits 1 one second after it starts, `web:late` exits 1 after `lateMs`.
 */
import type { ServiceRecord, TaskRecord } from '../../../src/state/index.js';
import { BatchSim, stackOf, type RunPlan } from '../batch/sim.js';

export interface WebOptions {
  readonly replicas?: number;
  /** Inline YAML mappings, e.g. `{parallelism: 2, monitor: 5s}`. */
  readonly update?: string;
  readonly rollback?: string;
  /** `x-shoal.update`, inline, e.g. `{canary: 1}`. */
  readonly shoalUpdate?: string;
  readonly constraint?: string;
}

/** The Compose file of `app_web` running `image`. */
export function web(image: string, o: WebOptions = {}): ReturnType<typeof stackOf> {
  const lines = ['services:', '  web:', `    image: ${image}`, '    deploy:', `      replicas: ${o.replicas ?? 3}`];
  lines.push('      restart_policy: {condition: any, delay: 1s}');
  if (o.update !== undefined) lines.push(`      update_config: ${o.update}`);
  if (o.rollback !== undefined) lines.push(`      rollback_config: ${o.rollback}`);
  if (o.constraint !== undefined) lines.push(`      placement: {constraints: ["${o.constraint}"]}`);
  if (o.shoalUpdate !== undefined) lines.push('    x-shoal:', `      update: ${o.shoalUpdate}`);
  return stackOf(lines.join('\n') + '\n', 'app');
}

export const WEB = 'app_web';

/** A sim whose runner reads the image of the version each task runs. */
export function rolloutSim(o: { lateMs?: number; nodes?: number } = {}): BatchSim & { failAll: { on: boolean } } {
  const failAll = { on: false };
  const sim = new BatchSim({ nodes: Array.from({ length: o.nodes ?? 3 }, () => ({ cpus: 8 })) });
  sim.runner = (task: TaskRecord): RunPlan => {
    const image = imageOf(sim.state.services[task.serviceId], task.serviceVersion);
    if (failAll.on || image.endsWith(':bad')) return { ms: 1000, exitCode: 1 };
    if (image.endsWith(':late')) return { ms: o.lateMs ?? 3000, exitCode: 1 };
    return { ms: 1e12, exitCode: 0 };
  };
  return Object.assign(sim, { failAll });
}

function imageOf(service: ServiceRecord | undefined, version: number): string {
  const entry = service?.history?.find((e) => e.version === version);
  return entry?.spec.image ?? service?.spec.image ?? '';
}

export function service(sim: BatchSim): ServiceRecord {
  return sim.state.services[WEB]!;
}

/** Live tasks of app_web (wanted running, not ended), by slot. */
export function liveTasks(sim: BatchSim): TaskRecord[] {
  return Object.values(sim.state.tasks)
    .filter((t) => t.serviceId === WEB && t.desiredState === 'running' && !isEnded(t))
    .sort((a, b) => a.slot - b.slot);
}

function isEnded(t: TaskRecord): boolean {
  return ['complete', 'shutdown', 'failed', 'rejected', 'orphaned'].includes(t.state);
}

/** The image each live task runs, in slot order. */
export function images(sim: BatchSim): string[] {
  return liveTasks(sim).map((t) => imageOf(service(sim), t.serviceVersion));
}

/** Step until the rollout of app_web is in `state` (throws after `maxSteps`). */
export function runUntilState(sim: BatchSim, state: string, maxSteps = 300): void {
  sim.runUntil(() => service(sim).rollout?.state === state, maxSteps);
}
