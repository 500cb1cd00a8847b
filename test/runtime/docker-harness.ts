/**
 * Docker integration harness: a real engine, the test image, a unique node id per runtime, and
 * a stand-in for the replicated state that applies `task.report` entries the way apply does
 * (same task, node and generation; the state's rank never goes down) and feeds the runtime back.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import {
  DockerDriver,
  LABELS,
  NodeRuntime,
  shortNodeId,
  type DockerDriverOptions,
  type TaskReport,
} from '../../src/runtime/index.js';
import type { ServiceSpec } from '../../src/stack/spec.js';
import { taskStateRank, type TaskRecord } from '../../src/state/workloads.js';
import { assignment, task } from './fixtures.js';

export const IMAGE = 'shoal-test/busybox:latest';
const run = promisify(execFile);

/** The engine, or an error saying there is none and how to get one. */
export async function requireDocker(): Promise<Docker> {
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (error) {
    throw new Error(
      `These tests need a Docker Engine and none answered (${(error as Error).message}): ` +
        'install and start one with `bash scripts/ensure-docker.sh` (CI does), or set DOCKER_HOST',
    );
  }
  try {
    await docker.getImage(IMAGE).inspect();
  } catch {
    await run('bash', ['scripts/build-test-image.sh', IMAGE], { timeout: 120_000 });
  }
  return docker;
}

/** A node id no other test (or test run) uses. */
export function uniqueNodeId(): string {
  return `test-${randomBytes(6).toString('hex')}`;
}

/**
 * Removes every container labelled with the node id, then the node's stack networks (named
 * `<stack>_<net>_<short node id>`): an engine has room for about 30 bridge networks, and every
 * test node makes its own.
 */
export async function removeNodeContainers(docker: Docker, nodeId: string): Promise<void> {
  const mine = await docker.listContainers({ all: true, filters: { label: [`${LABELS.nodeId}=${nodeId}`] } });
  await Promise.all(
    mine.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
  const suffix = `_${shortNodeId(nodeId)}`;
  const networks = await docker.listNetworks({ filters: { label: [LABELS.stack] } });
  await Promise.all(
    networks
      .filter((n) => n.Name.endsWith(suffix))
      .map((n) =>
        docker
          .getNetwork(n.Id)
          .remove()
          .catch(() => undefined),
      ),
  );
}

/** Polls until `check` returns a value other than undefined/false (bounded). */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One node: a runtime over the real engine plus the task records it reports into. */
export class TestNode {
  readonly nodeId: string;
  readonly runtime: NodeRuntime;
  readonly driver: DockerDriver;
  readonly tasks = new Map<string, TaskRecord>();
  readonly specs = new Map<string, ServiceSpec>();
  readonly stacks = new Map<string, string>();
  /** Every report received, in order. */
  readonly reports: TaskReport[] = [];

  constructor(
    readonly docker: Docker,
    options: { driver?: DockerDriverOptions; nodeId?: string; reconcileIntervalMs?: number } = {},
  ) {
    this.nodeId = options.nodeId ?? uniqueNodeId();
    this.driver = new DockerDriver({ docker, pull: 'never', ...options.driver });
    this.runtime = new NodeRuntime({
      nodeId: this.nodeId,
      driver: this.driver,
      reconcileIntervalMs: options.reconcileIntervalMs ?? 250,
    });
    this.runtime.onReports((rs) => {
      this.reports.push(...rs);
      for (const r of rs) this.#apply(r);
      queueMicrotask(() => this.sync());
    });
  }

  /** Adds (or replaces) a task assigned to this node. */
  put(id: string, spec: ServiceSpec, overrides: Partial<TaskRecord> = {}, stack = 'app'): TaskRecord {
    const t = task({ id, nodeId: this.nodeId, ...overrides });
    this.tasks.set(id, t);
    this.specs.set(id, spec);
    this.stacks.set(id, stack);
    this.sync();
    return t;
  }

  update(id: string, change: Partial<TaskRecord>): void {
    this.tasks.set(id, { ...this.tasks.get(id)!, ...change });
    this.sync();
  }

  sync(): void {
    this.runtime.setAssignments(
      [...this.tasks.values()].map((t) => assignment(t, this.specs.get(t.id)!, this.stacks.get(t.id))),
    );
  }

  /** Waits until the task's record reaches `state`; returns the record. */
  async until(id: string, state: TaskRecord['state'], timeoutMs = 20_000): Promise<TaskRecord> {
    return waitFor(
      `task ${id} to be ${state} (it is ${this.tasks.get(id)?.state})`,
      () => {
        const t = this.tasks.get(id);
        return t && t.state === state ? t : undefined;
      },
      timeoutMs,
    );
  }

  async containers(): Promise<Docker.ContainerInfo[]> {
    return this.docker.listContainers({ all: true, filters: { label: [`${LABELS.nodeId}=${this.nodeId}`] } });
  }

  async close(): Promise<void> {
    await this.runtime.stop();
    await removeNodeContainers(this.docker, this.nodeId);
  }

  #apply(r: TaskReport): void {
    const t = this.tasks.get(r.taskId);
    if (!t || t.nodeId !== this.nodeId || t.generation !== r.generation) return;
    if (taskStateRank(r.state) < taskStateRank(t.state)) return;
    const { state, message, exitCode, containerId, restarts } = r;
    this.tasks.set(r.taskId, { ...t, state, message, exitCode, containerId, restarts });
  }
}

/**
 * A test file's engine and nodes: `engine()` once `beforeAll` has found the engine, `start()` a
 * node (its runtime started) that is closed after the test.
 */
export function dockerNodes(): {
  engine: () => Docker;
  start: (options?: ConstructorParameters<typeof TestNode>[1]) => Promise<TestNode>;
} {
  let docker: Docker | undefined;
  const nodes: TestNode[] = [];
  beforeAll(async () => {
    docker = await requireDocker();
  }, 120_000);
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.close()));
  });
  const engine = (): Docker => {
    if (docker === undefined) throw new Error('the Docker Engine is not ready: call engine() inside a test');
    return docker;
  };
  return {
    engine,
    start: async (options = {}) => {
      const node = new TestNode(engine(), options);
      nodes.push(node);
      await node.runtime.start();
      return node;
    },
  };
}
