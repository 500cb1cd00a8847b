/**
 * An in-memory ContainerDriver and a manual clock, to test NodeRuntime's loop (reports,
 * timers, concurrency, static stability) without an engine and on virtual time.
 */
import type { Clock, TimerHandle } from '../../src/raft/driver/clock.js';
import {
  LABELS,
  type ContainerDriver,
  type LogLine,
  type ObservedContainer,
  type RuntimeAssignment,
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

export class MemoryDriver implements ContainerDriver {
  readonly name = 'memory';
  readonly containers = new Map<string, ObservedContainer>();
  readonly calls: string[] = [];
  /** Makes the next create throw this. */
  createError: Error | null = null;
  /** While set, creates wait for it. */
  gate: Promise<void> | null = null;
  concurrent = 0;
  maxConcurrent = 0;
  #next = 0;

  constructor(readonly clock: ManualClock) {}

  async list(nodeId: string): Promise<ObservedContainer[]> {
    return [...this.containers.values()].filter((c) => c.nodeId === nodeId);
  }

  async create(nodeId: string, a: RuntimeAssignment): Promise<string> {
    this.calls.push(`create ${a.task.id}`);
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
  }

  async stop(id: string, stop: StopOptions): Promise<void> {
    this.calls.push(`stop ${id} ${stop.signal} ${stop.graceMs}`);
    this.#set(id, { status: 'exited', exitCode: 143, finishedAt: this.clock.now() });
  }

  async remove(id: string): Promise<void> {
    this.calls.push(`remove ${id}`);
    this.containers.delete(id);
  }

  exit(id: string, exitCode: number): void {
    this.#set(id, { status: 'exited', exitCode, finishedAt: this.clock.now() });
  }

  async *logs(): AsyncIterable<LogLine> {
    yield { stream: 'stdout', time: 1, line: 'hello' };
  }

  #set(id: string, change: Partial<ObservedContainer>): void {
    const c = this.containers.get(id);
    if (c) this.containers.set(id, { ...c, ...change });
  }
}
