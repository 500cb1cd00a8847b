/**
 * An in-memory ContainerDriver and a manual clock, to test NodeRuntime's loop (reports,
 * timers, concurrency, static stability) without an engine and on virtual time, and to be the
 * container runtime of the in-process agents (test/agent/support): a test makes a container
 * print lines (`print`) and end with an exit code (`exit`), as a real one would.
 */
import type { Clock, TimerHandle } from '../../src/raft/driver/clock.js';
import {
  LABELS,
  type ContainerDriver,
  type LiveUsage,
  type LogLine,
  type LogOptions,
  type ObservedContainer,
  type RunnableAssignment,
  type StopOptions,
} from '../../src/runtime/index.js';

export class ManualClock implements Clock {
  t = 1_000_000;
  #next = 0;
  readonly #timers = new Map<number, { at: number; fn: () => void; every: number | null }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    this.#timers.set(++this.#next, { at: this.t + ms, fn, every: null });
    return this.#next as unknown as TimerHandle;
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    this.#timers.set(++this.#next, { at: this.t + ms, fn, every: ms });
    return this.#next as unknown as TimerHandle;
  }
  clearTimeout(h: TimerHandle): void {
    this.#timers.delete(h as unknown as number);
  }
  clearInterval(h: TimerHandle): void {
    this.#timers.delete(h as unknown as number);
  }
  /** Moves time forward, firing what falls due (each interval at most once per call). */
  advance(ms: number): void {
    this.t += ms;
    for (const [id, timer] of [...this.#timers]) {
      if (timer.at > this.t) continue;
      if (timer.every === null) this.#timers.delete(id);
      else timer.at = this.t + timer.every;
      timer.fn();
    }
  }
}

/** Options of {@link MemoryDriver}. */
export interface MemoryDriverOptions {
  /** The line every new container prints when created; null: none. Default `hello`. */
  readonly firstLine?: string | null;
}

/** How {@link MemoryDriver.print} stamps a line. */
export interface PrintOptions {
  readonly stream?: LogLine['stream'];
  /** ms since the epoch; default the driver clock's now. */
  readonly time?: number;
}

export class MemoryDriver implements ContainerDriver {
  readonly name = 'memory';
  readonly containers = new Map<string, ObservedContainer>();
  readonly calls: string[] = [];
  /** The assignment each task's latest create was given (its secrets and configs in `files`). */
  readonly created = new Map<string, RunnableAssignment>();
  /** Makes the next create throw this. */
  createError: Error | null = null;
  /** While set, creates wait for it. */
  gate: Promise<void> | null = null;
  concurrent = 0;
  maxConcurrent = 0;
  /** Images whose containers exit with code 1 as soon as they start (a version that crashes). */
  readonly failImages = new Set<string>();
  /** The image each container was created from. */
  readonly #images = new Map<string, string>();
  /**
   * Synthetic usage of running containers, for `liveUsage` (the autoscaler's samples): CPU cores
   * in use now and memory; null or unset: the driver measures nothing.
   */
  load: ((c: ObservedContainer) => { readonly cpuCores: number; readonly memoryBytes: number } | null) | null = null;
  /** CPU time each container used, integrated over the clock between `liveUsage` calls. */
  readonly #cpu = new Map<string, { cpuMs: number; at: number }>();
  #next = 0;
  readonly #firstLine: string | null;
  /** What each container printed, kept after it exits (as an engine does) until it is removed. */
  readonly #output = new Map<string, LogLine[]>();
  /** Followers to wake on a new line, an exit or a removal. */
  readonly #waiters = new Set<() => void>();

  /** `clock` stamps starts, exits and lines: a {@link ManualClock}, or `realClock` for real agents. */
  constructor(
    readonly clock: Pick<Clock, 'now'>,
    options: MemoryDriverOptions = {},
  ) {
    this.#firstLine = options.firstLine === undefined ? 'hello' : options.firstLine;
  }

  async list(nodeId: string): Promise<ObservedContainer[]> {
    return [...this.containers.values()].filter((c) => c.nodeId === nodeId);
  }

  async create(nodeId: string, a: RunnableAssignment): Promise<string> {
    this.calls.push(`create ${a.task.id}`);
    this.created.set(a.task.id, a);
    this.concurrent++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    try {
      if (this.gate) await this.gate;
      if (this.createError) {
        const e = this.createError;
        this.createError = null;
        throw e;
      }
      const id = `m${++this.#next}`;
      this.containers.set(id, this.container(id, nodeId, a.task.id, a.task.generation, 'created'));
      this.#images.set(id, a.service?.spec.image ?? '');
      this.#output.set(id, []);
      if (this.#firstLine !== null) this.print(id, this.#firstLine);
      return id;
    } finally {
      this.concurrent--;
    }
  }

  container(
    id: string,
    nodeId: string,
    taskId: string | null,
    generation: number | null,
    status: ObservedContainer['status'],
  ): ObservedContainer {
    return {
      id,
      name: id,
      nodeId,
      taskId,
      generation,
      labels: { [LABELS.nodeId]: nodeId },
      status,
      exitCode: null,
      health: 'none',
      healthOutput: '',
      startedAt: null,
      finishedAt: null,
      error: '',
      oomKilled: false,
      stopSignal: null,
      stopGraceMs: null,
    };
  }

  async start(id: string): Promise<void> {
    this.calls.push(`start ${id}`);
    this.#set(id, { status: 'running', startedAt: this.clock.now(), exitCode: null });
    if (this.failImages.has(this.#images.get(id) ?? '')) this.exit(id, 1);
  }

  async stop(id: string, stop: StopOptions): Promise<void> {
    this.calls.push(`stop ${id} ${stop.signal} ${stop.graceMs}`);
    this.#set(id, { status: 'exited', exitCode: 143, finishedAt: this.clock.now() });
  }

  async remove(id: string): Promise<void> {
    this.calls.push(`remove ${id}`);
    this.containers.delete(id);
    this.#output.delete(id);
    this.#images.delete(id);
    this.#wake();
  }

  async liveUsage(id: string): Promise<LiveUsage | null> {
    const c = this.containers.get(id);
    const load = c?.status === 'running' ? this.load?.(c) : null;
    if (!c || !load) return null;
    const now = this.clock.now();
    const cpu = this.#cpu.get(id) ?? { cpuMs: 0, at: now };
    cpu.cpuMs += load.cpuCores * (now - cpu.at);
    cpu.at = now;
    this.#cpu.set(id, cpu);
    return { cpuMs: cpu.cpuMs, memoryBytes: load.memoryBytes };
  }

  /** The container's process ends with `exitCode` (followers of its logs see the stream end). */
  exit(id: string, exitCode: number): void {
    this.#set(id, { status: 'exited', exitCode, finishedAt: this.clock.now() });
  }

  /** The container of a task (its current one, if several generations are still there). */
  containerOf(taskId: string): ObservedContainer | undefined {
    return [...this.containers.values()].reverse().find((c) => c.taskId === taskId);
  }

  /** The container writes `line` to its output. */
  print(id: string, line: string, options: PrintOptions = {}): void {
    const output = this.#output.get(id);
    if (!output) throw new Error(`Cannot print to container ${id}: the memory driver has no such container`);
    output.push({ stream: options.stream ?? 'stdout', time: options.time ?? this.clock.now(), line });
    this.#wake();
  }

  /**
   * What the container printed, `since` and `tail` applied; with `follow`, then each new line
   * until the container exits or is removed, or `signal` aborts (as `docker logs -f` does).
   */
  async *logs(id: string, options: LogOptions = {}): AsyncIterable<LogLine> {
    const output = this.#output.get(id);
    if (!output) throw new Error(`Cannot read the logs of container ${id}: the memory driver has no such container`);
    const wanted = (line: LogLine) => options.since === undefined || line.time >= options.since;
    const existing = output.filter(wanted);
    let sent = output.length;
    yield* options.tail === undefined ? existing : existing.slice(Math.max(0, existing.length - options.tail));
    if (options.follow !== true) return;
    for (;;) {
      while (sent < output.length) {
        const line = output[sent++]!;
        if (wanted(line)) yield line;
      }
      // no await from the last line read to the wait below: nothing printed meanwhile is missed
      const status = this.containers.get(id)?.status;
      if ((status !== 'running' && status !== 'created') || options.signal?.aborted === true) return;
      await this.#changed(options.signal);
    }
  }

  /** Resolves on the next line, exit or removal, or when `signal` aborts. */
  #changed(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  #set(id: string, change: Partial<ObservedContainer>): void {
    const c = this.containers.get(id);
    if (c) this.containers.set(id, { ...c, ...change });
    this.#wake();
  }
}
