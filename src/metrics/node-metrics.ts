/**
 * This node's metrics: what it offers (from its node record), what the tasks placed on it
 * reserve, and its tasks by state. Kept by comparing each task table with the one counted
 * before (as task-counts.ts does), so a scrape costs what changed, not the tasks on the node.
 * @module
 */
import { reservationsOf } from '../controllers/placement.js';
import type { IndexedState } from '../state/indexed-state.js';
import { isPlaced, type TaskTable } from '../state/task-table.js';
import type { TaskRecord, TaskState } from '../state/workloads.js';
import type { MetricRegistry } from './registry.js';

export interface NodeMetricsSource {
  readonly selfId: string;
  readonly view: () => IndexedState;
}

/** What one placed task holds, as counted when it was placed (a later spec change does not move it). */
interface Held {
  readonly cpuMillis: number;
  readonly memoryBytes: number;
  readonly gpus: number;
}

/** This node's tasks by state and what its placed tasks hold, updated by table diffs. */
class NodeTally {
  readonly byState = new Map<TaskState, number>();
  readonly held = new Map<string, Held>();
  cpuMillis = 0;
  memoryBytes = 0;
  gpus = 0;
  #table: TaskTable | null = null;

  constructor(readonly selfId: string) {}

  update(state: IndexedState): void {
    const table = state.tasks;
    const last = this.#table;
    if (last === table) return;
    if (last === null) for (const task of table.onNode(this.selfId)) this.#add(state, task);
    else
      last.diff(table, (id, was, is) => {
        if (was?.nodeId === this.selfId) this.#remove(id, was);
        if (is?.nodeId === this.selfId) this.#add(state, is);
      });
    this.#table = table;
  }

  #add(state: IndexedState, task: TaskRecord): void {
    this.byState.set(task.state, (this.byState.get(task.state) ?? 0) + 1);
    if (!isPlaced(task)) return;
    const spec = state.services[task.serviceId]?.spec;
    const reserved = spec === undefined ? undefined : reservationsOf(spec);
    const held = { cpuMillis: reserved?.cpus ?? 0, memoryBytes: reserved?.memoryBytes ?? 0, gpus: task.gpus.length };
    this.held.set(task.id, held);
    this.#hold(held, 1);
  }

  #remove(id: string, task: TaskRecord): void {
    const n = (this.byState.get(task.state) ?? 0) - 1;
    if (n <= 0) this.byState.delete(task.state);
    else this.byState.set(task.state, n);
    const held = this.held.get(id);
    if (held === undefined) return;
    this.held.delete(id);
    this.#hold(held, -1);
  }

  #hold(held: Held, sign: 1 | -1): void {
    this.cpuMillis += sign * held.cpuMillis;
    this.memoryBytes += sign * held.memoryBytes;
    this.gpus += sign * held.gpus;
  }
}

export function registerNodeMetrics(registry: MetricRegistry, source: NodeMetricsSource): void {
  const cpus = registry.gauge('shoal_node_allocatable_cpus', 'CPUs this node offers to tasks.');
  const memory = registry.gauge('shoal_node_allocatable_memory_bytes', 'Memory this node offers to tasks.');
  const gpus = registry.gauge('shoal_node_allocatable_gpus', 'GPUs this node offers to tasks.');
  const cpusUsed = registry.gauge('shoal_node_allocated_cpus', 'CPUs reserved by the tasks placed on this node.');
  const memoryUsed = registry.gauge(
    'shoal_node_allocated_memory_bytes',
    'Memory reserved by the tasks placed on this node.',
  );
  const gpusUsed = registry.gauge('shoal_node_allocated_gpus', 'GPUs held by the tasks placed on this node.');
  const tasks = registry.gauge('shoal_node_tasks', 'Tasks assigned to this node, by state.', { labelNames: ['state'] });
  const tally = new NodeTally(source.selfId);
  registry.onCollect(() => {
    const state = source.view();
    const resources = state.nodes[source.selfId]?.resources;
    cpus.set(resources?.cpus ?? 0);
    memory.set(resources?.memoryBytes ?? 0);
    gpus.set(resources?.gpus.length ?? 0);
    tally.update(state);
    tasks.reset();
    for (const [name, n] of tally.byState) tasks.set(n, { state: name });
    cpusUsed.set(tally.cpuMillis / 1000);
    memoryUsed.set(tally.memoryBytes);
    gpusUsed.set(tally.gpus);
  });
}
