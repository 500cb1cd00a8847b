/**
 * A tiny in-test cluster for the workload controllers: a state builder, a minimal applier that
 * follows tmp/workload-commands.md for the commands the controllers emit, and a simulated node
 * runtime that moves tasks along (assigned → running, stopping → shutdown), with virtual time.
 */
import type { WorkloadCommandInput, WorkloadNode, WorkloadState } from '../../../src/controllers/index.js';
import { parseStackOrThrow } from '../../../src/stack/index.js';
import type { ServiceSpec } from '../../../src/stack/spec.js';
import {
  isTerminal,
  taskStateRank,
  type ServiceRecord,
  type TaskRecord,
  type TaskState,
} from '../../../src/state/workloads.js';

export const GiB = 2 ** 30;

const BASE: ServiceSpec = parseStackOrThrow('services:\n  web:\n    image: nginx\n', {
  file: '/tmp/compose.yml',
  name: 'app',
}).services.web!;

export interface SpecOptions {
  readonly kind?: 'replicated' | 'global';
  readonly replicas?: number;
  readonly memoryBytes?: number;
  readonly constraints?: readonly { attribute: string; op: '==' | '!='; value: string }[];
  readonly restart?: Partial<ServiceSpec['deploy']['restartPolicy']>;
  readonly update?: Partial<ServiceSpec['deploy']['updateConfig']>;
  readonly image?: string;
  readonly hostPort?: number;
  /** `x-shoal.rebalance: false`. */
  readonly rebalance?: false;
}

/** A normalized service spec with the given overrides. */
export function spec(o: SpecOptions = {}): ServiceSpec {
  const d = BASE.deploy;
  return {
    ...BASE,
    kind: o.kind ?? 'replicated',
    image: o.image ?? BASE.image,
    ...(o.rebalance === undefined ? {} : { scheduling: { ...BASE.scheduling, rebalance: o.rebalance } }),
    ports:
      o.hostPort === undefined
        ? []
        : [{ target: 80, published: o.hostPort, protocol: 'tcp', mode: 'host', hostIp: null }],
    deploy: {
      ...d,
      replicas: o.kind === 'global' ? 0 : (o.replicas ?? 1),
      placement: { ...d.placement, constraints: o.constraints ?? [] },
      resources: { ...d.resources, reservations: { ...d.resources.reservations, memoryBytes: o.memoryBytes ?? 0 } },
      restartPolicy: { ...d.restartPolicy, ...o.restart },
      updateConfig: { ...d.updateConfig, ...o.update },
    },
  };
}

/** A peer-id-shaped node id: `nid(3)` = `node000000000003`. */
export const nid = (i: number): string => `node${String(i).padStart(12, '0')}`;

export interface NodeOptions {
  readonly memoryBytes?: number;
  readonly labels?: Record<string, string>;
  readonly availability?: WorkloadNode['availability'];
  readonly status?: WorkloadNode['status'];
  readonly workloads?: boolean;
}

export function nodeRecord(id: string, o: NodeOptions = {}, at = 0): WorkloadNode {
  return {
    id,
    hostname: `host-${id.slice(-3)}`,
    addresses: [],
    labels: o.labels ?? {},
    resources: { cpus: 4, memoryBytes: o.memoryBytes ?? 8 * GiB, gpus: [] },
    roles: { voter: 'auto', workloads: o.workloads ?? true },
    version: '0.1.0',
    availability: o.availability ?? 'active',
    status: o.status ?? 'ready',
    statusChangedAt: at,
    registeredAt: at,
    updatedAt: at,
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The cluster under test. Plain mutable records (the controllers only read them); `now` is the
 * virtual clock, advanced by `tick()`.
 */
export class World {
  now = 1_000_000;
  readonly nodes: Record<string, WorkloadNode> = {};
  readonly services: Record<string, ServiceRecord> = {};
  readonly tasks: Record<string, TaskRecord> = {};
  #generation = 0;
  #ids = 0;
  /** Task ids whose container fails as soon as it starts (crash loop), by service. */
  readonly crashing = new Set<string>();
  /** Refused/illegal things the applier met (a test asserts it stays empty). */
  readonly violations: string[] = [];

  get state(): WorkloadState {
    return { nodes: this.nodes, services: this.services, tasks: this.tasks };
  }

  readonly newId = (): string => `t${++this.#ids}`;

  addNode(i: number, o: NodeOptions = {}): string {
    const id = nid(i);
    this.nodes[id] = nodeRecord(id, o, this.now);
    return id;
  }

  setNode(id: string, change: Partial<Mutable<WorkloadNode>>): void {
    this.nodes[id] = { ...this.nodes[id]!, ...change };
  }

  /** Deploy (or redeploy) a service: a changed spec bumps the version and resets replicas. */
  deploy(name: string, s: ServiceSpec): string {
    const id = `app_${name}`;
    const old = this.services[id];
    const changed = old === undefined || JSON.stringify(old.spec) !== JSON.stringify(s);
    if (!changed) return id;
    this.services[id] = {
      id,
      stack: 'app',
      name,
      spec: s,
      specHash: String((old?.version ?? 0) + 1).padStart(64, '0'),
      version: (old?.version ?? 0) + 1,
      replicas: s.deploy.replicas,
      createdAt: old?.createdAt ?? this.now,
      updatedAt: this.now,
    };
    return id;
  }

  scale(id: string, replicas: number): void {
    this.services[id] = { ...this.services[id]!, replicas, updatedAt: this.now };
  }

  /** Remove a service: its unfinished tasks are asked to shut down (as `stack.deploy` does). */
  removeService(id: string): void {
    delete this.services[id];
    for (const t of Object.values(this.tasks)) {
      if (t.serviceId === id && !isTerminal(t.state)) this.#put(t, { desiredState: 'shutdown' });
    }
  }

  /** Apply the controllers' commands in order, as the state machine would. */
  apply(commands: readonly WorkloadCommandInput[]): void {
    for (const c of commands) this.#applyOne(c);
  }

  #put(t: TaskRecord, change: Partial<Mutable<TaskRecord>>): void {
    this.tasks[t.id] = { ...t, ...change, updatedAt: this.now };
  }

  #applyOne(c: WorkloadCommandInput): void {
    switch (c.type) {
      case 'task.create':
        for (const n of c.tasks) {
          if (this.tasks[n.id] !== undefined || this.services[n.serviceId] === undefined) {
            this.violations.push(`task.create refused for ${n.id}`);
            return;
          }
        }
        for (const n of c.tasks) {
          this.tasks[n.id] = {
            id: n.id,
            serviceId: n.serviceId,
            slot: n.slot,
            serviceVersion: n.serviceVersion,
            nodeId: n.nodeId ?? null,
            generation: 0,
            gpus: [],
            desiredState: 'running',
            state: 'pending',
            message: '',
            exitCode: null,
            containerId: null,
            restarts: 0,
            createdAt: this.now,
            updatedAt: this.now,
          };
        }
        return;
      case 'task.assign':
        for (const a of c.assignments) {
          const t = this.tasks[a.taskId];
          const node = this.nodes[a.nodeId];
          if (t === undefined || t.state !== 'pending' || t.desiredState !== 'running') continue;
          if (node === undefined || node.status !== 'ready') continue;
          if (t.nodeId !== null && t.nodeId !== a.nodeId) this.violations.push(`pinned ${t.id} assigned elsewhere`);
          this.#put(t, {
            nodeId: a.nodeId,
            gpus: a.gpus,
            state: 'assigned',
            generation: ++this.#generation,
            message: '',
          });
        }
        return;
      case 'task.pending':
        for (const u of c.updates) {
          const t = this.tasks[u.taskId];
          if (t !== undefined && t.state === 'pending') this.#put(t, { message: u.message });
        }
        return;
      case 'task.desire':
        for (const id of c.taskIds) {
          const t = this.tasks[id];
          if (t !== undefined) this.#put(t, { desiredState: c.desiredState });
        }
        return;
      case 'task.remove':
        for (const id of c.taskIds) {
          const t = this.tasks[id];
          if (t !== undefined && isTerminal(t.state)) delete this.tasks[id];
          else if (t !== undefined) this.violations.push(`task.remove of live task ${id}`);
        }
        return;
      case 'node.setStatus': {
        const node = this.nodes[c.id];
        if (node === undefined) return;
        this.nodes[c.id] = { ...node, status: c.status, statusChangedAt: this.now };
        if (c.status === 'down') {
          for (const t of Object.values(this.tasks)) {
            if (t.nodeId === c.id && !isTerminal(t.state))
              this.#put(t, { state: 'orphaned', desiredState: 'shutdown', message: 'node down' });
          }
        }
        return;
      }
    }
  }

  /** A report from a node's runtime, fenced by node and generation like the real apply. */
  report(nodeId: string, taskId: string, generation: number, state: TaskState): boolean {
    const t = this.tasks[taskId];
    if (t === undefined || t.nodeId !== nodeId || t.generation !== generation) return false;
    if (taskStateRank(state) < taskStateRank(t.state)) return false;
    this.#put(t, { state });
    return true;
  }

  /**
   * Containers actually running, per node: task id → generation. Only the node's runtime changes
   * them, so a partitioned node keeps its containers whatever the state says. The value is the
   * task as it was when its container started (the record may since have been collected).
   */
  readonly containers = new Map<string, Map<string, TaskRecord>>();

  /**
   * One step of every reachable node's runtime (nodes in `partitioned` are cut off: they neither
   * hear the state nor report). A runtime starts its assigned tasks (which fail at once when their
   * service is crashing), stops those told to shut down, and stops every container whose task is
   * no longer assigned to it with the same generation and wanted running: the fencing rule.
   */
  runtimes(partitioned: ReadonlySet<string> = new Set()): void {
    for (const nodeId of Object.keys(this.nodes).sort()) {
      if (partitioned.has(nodeId)) continue;
      const running = this.containers.get(nodeId) ?? new Map<string, TaskRecord>();
      this.containers.set(nodeId, running);
      for (const id of Object.keys(this.tasks).sort()) {
        const t = this.tasks[id]!;
        if (t.nodeId !== nodeId || isTerminal(t.state) || taskStateRank(t.state) < taskStateRank('assigned')) continue;
        if (t.desiredState === 'shutdown') this.report(nodeId, t.id, t.generation, 'shutdown');
        else if (t.state !== 'running') {
          const ok = !this.crashing.has(t.serviceId);
          this.report(nodeId, t.id, t.generation, ok ? 'running' : 'failed');
          if (ok) running.set(t.id, t);
        }
      }
      for (const [taskId, { generation }] of [...running]) {
        const t = this.tasks[taskId];
        const wanted =
          t !== undefined &&
          t.nodeId === nodeId &&
          t.generation === generation &&
          t.desiredState === 'running' &&
          !isTerminal(t.state);
        if (!wanted) running.delete(taskId);
      }
    }
  }

  /** Running containers of a service's tasks, as `[nodeId, task]` pairs (partitioned nodes included). */
  containersOf(serviceId: string): [string, TaskRecord][] {
    const out: [string, TaskRecord][] = [];
    for (const [nodeId, running] of this.containers) {
      for (const t of running.values()) if (t.serviceId === serviceId) out.push([nodeId, t]);
    }
    return out;
  }

  tick(ms: number): void {
    this.now += ms;
  }

  /** Live tasks (wanted running, not ended) of a service, by slot. */
  liveBySlot(serviceId: string): Map<number, TaskRecord[]> {
    const out = new Map<number, TaskRecord[]>();
    for (const t of Object.values(this.tasks)) {
      if (t.serviceId !== serviceId || t.desiredState !== 'running' || isTerminal(t.state)) continue;
      out.set(t.slot, [...(out.get(t.slot) ?? []), t]);
    }
    return out;
  }

  /** Tasks of a service in a given state. */
  tasksOf(serviceId: string, filter: (t: TaskRecord) => boolean = () => true): TaskRecord[] {
    return Object.values(this.tasks)
      .filter((t) => t.serviceId === serviceId && filter(t))
      .sort((a, b) => a.slot - b.slot || (a.id < b.id ? -1 : 1));
  }
}
