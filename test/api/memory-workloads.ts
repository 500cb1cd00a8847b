/**
 * The workload half of the in-memory admin API: stacks, services and tasks in plain objects,
 * deployed through the real Compose parser (src/stack) so a bad file fails as it does on the
 * agent, and service logs fed by the test (`pushLog`, `endLogs`).
 */
import { posix } from 'node:path';
import {
  ApiError,
  type LogLine,
  type LogsRequest,
  type ServiceView,
  type StackDeployRequest,
  type StackDeployResult,
  type TaskView,
} from '../../src/api/types.js';
import { formatStackError, parseStack, type ServiceSpec } from '../../src/stack/index.js';

/** A fixed "now" (2023-11-14T22:13:20Z) so tables with ages are predictable. */
export const MEMORY_NOW = 1_700_000_000_000;

/** A service as the memory API keeps it. */
export interface MemoryService {
  readonly id: string;
  readonly stack: string;
  readonly name: string;
  readonly kind: ServiceView['kind'];
  readonly image: string;
  replicas: number;
  readonly ports: string[];
  version: number;
  updatedAt: number;
  spec: unknown;
}

/** A stack as the memory API keeps it. */
export interface MemoryStack {
  readonly name: string;
  readonly createdAt: number;
  updatedAt: number;
}

function portText(spec: ServiceSpec): string[] {
  return spec.ports.map((port) => `${port.published ?? ''}:${port.target}`.replace(/^:/, ''));
}

/** Tasks running `service`: one per replica, on the nodes in turn, all running since 2 minutes. */
export function tasksFor(service: MemoryService, nodes: readonly { id: string; hostname: string }[]): TaskView[] {
  const count = service.kind === 'global' ? nodes.length : service.replicas;
  return Array.from({ length: count }, (_, i) => {
    const node = nodes[i % Math.max(nodes.length, 1)];
    const slot = service.kind === 'global' ? (node?.id.slice(8, 16) ?? String(i)) : String(i + 1);
    return {
      id: `t${service.id.replace(/[^a-z0-9]/g, '')}${i + 1}`.padEnd(25, 'x'),
      serviceId: service.id,
      name: `${service.id}.${slot}`,
      image: service.image,
      nodeId: node?.id ?? null,
      nodeHostname: node?.hostname ?? null,
      desiredState: 'running',
      state: 'running',
      stateSince: MEMORY_NOW - 2 * 60_000,
      message: 'started',
      exitCode: null,
      restarts: 0,
    };
  });
}

/**
 * Parse and "deploy" a stack: returns the services the file declares, or throws the
 * `bad_request` the agent answers (every error, one per line).
 */
export function parseDeploy(request: StackDeployRequest): { services: MemoryService[]; warnings: string[] } {
  const files = request.files ?? {};
  const result = parseStack(request.compose, {
    file: request.file,
    name: request.name,
    env: request.env ?? {},
    baseDir: '.',
    readFile: (path) => {
      const text = files[path] ?? files[posix.normalize(path)];
      if (text === undefined) throw new Error('no such file was sent with the request');
      return text;
    },
  });
  if (!result.ok) {
    const n = result.errors.length;
    throw new ApiError(
      400,
      'bad_request',
      `stack ${request.name}: ${n} error${n === 1 ? '' : 's'} in ${request.file}:\n` +
        result.errors.map(formatStackError).join('\n'),
    );
  }
  const services = Object.values(result.spec.services).map((spec) => ({
    id: `${request.name}_${spec.name}`,
    stack: request.name,
    name: spec.name,
    kind: spec.kind,
    image: spec.image,
    replicas: spec.deploy.replicas,
    ports: portText(spec),
    version: 1,
    updatedAt: MEMORY_NOW,
    spec,
  }));
  return { services, warnings: result.warnings.map(formatStackError) };
}

/** The per-service changes of a deploy, and the records to keep (versions bumped on change). */
export function diffDeploy(
  stack: string,
  before: readonly MemoryService[],
  after: readonly MemoryService[],
): { changes: StackDeployResult['services'][number][]; keep: MemoryService[] } {
  const changes: StackDeployResult['services'][number][] = [];
  const keep: MemoryService[] = [];
  for (const next of after) {
    const old = before.find((s) => s.id === next.id);
    if (!old) {
      changes.push({ name: next.name, change: 'created' });
      keep.push(next);
    } else if (JSON.stringify(old.spec) === JSON.stringify(next.spec)) {
      changes.push({ name: next.name, change: 'unchanged' });
      keep.push(old);
    } else {
      changes.push({ name: next.name, change: 'updated' });
      keep.push({ ...next, version: old.version + 1 });
    }
  }
  for (const old of before) {
    if (old.stack === stack && !after.some((s) => s.id === old.id)) changes.push({ name: old.name, change: 'removed' });
  }
  return { changes, keep };
}

/**
 * Log lines of the memory API: what was pushed so far, then (with `follow`) each new push until
 * {@link LogFeed.end} or the signal aborts.
 */
export class LogFeed {
  readonly #lines: LogLine[] = [];
  readonly #waiters = new Set<() => void>();
  #ended = false;

  push(line: LogLine): void {
    this.#lines.push(line);
    this.#wake();
  }

  /** End every follower. */
  end(): void {
    this.#ended = true;
    this.#wake();
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  /** Follows until ended or aborted. Lines are filtered by `taskIds` (the service's tasks). */
  async *read(request: LogsRequest, taskIds: ReadonlySet<string>, signal?: AbortSignal): AsyncGenerator<LogLine> {
    const mine = (line: LogLine) =>
      taskIds.has(line.taskId) && (request.since === undefined || line.time >= request.since);
    const existing = this.#lines.filter(mine);
    let sent = this.#lines.length;
    yield* request.tail === undefined ? existing : existing.slice(Math.max(0, existing.length - request.tail));
    if (request.follow !== true) return;
    for (;;) {
      if (signal?.aborted) return;
      while (sent < this.#lines.length) {
        const line = this.#lines[sent++]!;
        if (mine(line)) yield line;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#waiters.delete(done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        this.#waiters.add(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }
}
