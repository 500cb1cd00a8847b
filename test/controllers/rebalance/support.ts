/**
 * A rebalancing bench: one replicated service `app_web` in a BatchSim (real apply, real
 * controllers, virtual time) whose tasks run for ever, and what the tests measure of it after
 * every step: tasks per node, running replicas, moves under way.
 */
import { nextWakeAt, type WorkloadCommandInput } from '../../../src/controllers/index.js';
import type { TaskRecord } from '../../../src/state/index.js';
import { BatchSim, stackOf, type NodeShape } from '../batch/sim.js';

export const WEB = 'app_web';

export interface WebOptions {
  readonly replicas?: number;
  readonly parallelism?: number;
  readonly constraint?: string;
  readonly cpus?: number;
  readonly maxPerNode?: number;
  /** A health check of the service's own (`running` then means healthy). */
  readonly healthcheck?: boolean;
  /** `x-shoal.rebalance`, as written in the file. */
  readonly rebalance?: string;
}

/** Deploy `app_web` with these settings. */
export function deployWeb(sim: BatchSim, o: WebOptions = {}): void {
  const lines = ['services:', '  web:', '    image: web:1', '    deploy:', `      replicas: ${o.replicas ?? 6}`];
  lines.push('      restart_policy: {condition: any, delay: 1s}');
  if (o.parallelism !== undefined) lines.push(`      update_config: {parallelism: ${o.parallelism}}`);
  const placement: string[] = [];
  if (o.constraint !== undefined) placement.push(`constraints: ["${o.constraint}"]`);
  if (o.maxPerNode !== undefined) placement.push(`max_replicas_per_node: ${o.maxPerNode}`);
  if (placement.length > 0) lines.push(`      placement: {${placement.join(', ')}}`);
  if (o.cpus !== undefined) lines.push(`      resources: {reservations: {cpus: "${o.cpus}"}}`);
  if (o.healthcheck === true) lines.push('    healthcheck: {test: ["CMD", "true"], interval: 1s}');
  if (o.rebalance !== undefined) lines.push('    x-shoal:', `      rebalance: ${o.rebalance}`);
  sim.deploy(stackOf(lines.join('\n') + '\n', 'app'));
}

/** A sim of `nodes` nodes whose tasks run until stopped. */
export function webSim(nodes: readonly NodeShape[] = [{ cpus: 8 }, { cpus: 8 }, { cpus: 8 }]): BatchSim {
  const sim = new BatchSim({ nodes });
  sim.runner = () => ({ ms: 1e12, exitCode: 0 });
  return sim;
}

function isLive(t: TaskRecord): boolean {
  return t.desiredState === 'running' && !['complete', 'shutdown', 'failed', 'rejected', 'orphaned'].includes(t.state);
}

export function webTasks(sim: BatchSim): TaskRecord[] {
  return Object.values(sim.state.tasks).filter((t) => t.serviceId === WEB);
}

/** Tasks wanted running and running now. */
export function running(sim: BatchSim): TaskRecord[] {
  return webTasks(sim).filter((t) => t.desiredState === 'running' && t.state === 'running');
}

/** Running tasks per node, in node order (a node with none counts 0). */
export function spread(sim: BatchSim): number[] {
  const tasks = running(sim);
  return sim.nodeIds.map((id) => tasks.filter((t) => t.nodeId === id).length);
}

/** Slots with two live tasks: moves (or start-first replacements) under way. */
export function movesUnderWay(sim: BatchSim): number {
  const perSlot = new Map<number, number>();
  for (const t of webTasks(sim).filter(isLive)) perSlot.set(t.slot, (perSlot.get(t.slot) ?? 0) + 1);
  return [...perSlot.values()].filter((n) => n >= 2).length;
}

/** Task ids created by these commands. */
export function created(commands: readonly WorkloadCommandInput[]): string[] {
  return commands.flatMap((c) => (c.type === 'task.create' ? c.tasks.map((t) => t.id) : []));
}

/** Kill a node and step until its tasks were replaced elsewhere (`replicas` running again). */
export function failNode(sim: BatchSim, nodeId: string, replicas = 6): void {
  sim.kill(nodeId);
  sim.runUntil(() => sim.state.nodes[nodeId]!.status === 'down' && running(sim).length === replicas, 60);
}

export interface Watch {
  /** The fewest running replicas seen after any step. */
  minRunning: number;
  /** The most moves under way at once. */
  maxMoves: number;
  /** Tasks created while watching. */
  creates: number;
  steps: number;
}

/** Step `steps` times (or until `until` holds), measuring after every step. */
export function watch(sim: BatchSim, steps: number, until?: () => boolean): Watch {
  const w: Watch = { minRunning: Infinity, maxMoves: 0, creates: 0, steps: 0 };
  for (let i = 0; i < steps; i++) {
    if (until?.()) break;
    w.creates += created(sim.step()).length;
    w.steps++;
    w.minRunning = Math.min(w.minRunning, running(sim).length);
    w.maxMoves = Math.max(w.maxMoves, movesUnderWay(sim));
  }
  return w;
}

/**
 * Steps as the leader runs its passes: scoped by the changes since the last pass, full only after
 * a pass that changed a node's status or when the wake-up `nextWakeAt` asked for is due (the
 * leader's wake timer). Returns how many passes were full.
 */
export function leaderSteps(sim: BatchSim, steps: number, each?: () => void): number {
  let full = 0;
  let wake: number | null = null;
  for (let i = 0; i < steps; i++) {
    if (wake !== null && sim.now >= wake) sim.resetChanges();
    const changes = sim.takeChanges();
    if (changes.full) full++;
    const commands = sim.plan({ changes });
    // A pass that changes a node's status does nothing else: the next one is full.
    if (commands.some((c) => c.type === 'node.setStatus')) sim.resetChanges();
    for (const c of commands) sim.apply(c);
    wake = nextWakeAt(sim.view, sim.now);
    sim.runtimes();
    sim.heartbeat();
    sim.now += 1000;
    each?.();
  }
  return full;
}
