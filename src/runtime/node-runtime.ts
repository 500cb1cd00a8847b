/**
 * The node runtime: the loop around the pure planner. Observe this node's containers, plan, act,
 * report. It runs on every node, leader or not, and it is statically stable: with no leader, no
 * quorum or no agent at all the containers keep running, and a restarted runtime adopts the
 * containers it finds labelled with its node id instead of recreating them.
 *
 * @module
 */
import { realClock, type Clock, type TimerHandle } from '../raft/driver/clock.js';
import { taskStateRank } from '../state/workloads.js';
import { errorMessage, NoContainerError, TaskRejectedError } from './errors.js';
import { setLongTimeout, type LongTimeout } from './long-timeout.js';
import { unusedNetworks } from './network-gc.js';
import { planNode, recordFailure, type Action, type RestartState, type SettledTask } from './plan.js';
import type {
  ContainerDriver,
  LogLine,
  LogOptions,
  ObservedContainer,
  RunnableAssignment,
  RuntimeAssignment,
  TaskReport,
} from './types.js';

/** The logging the runtime does (pino's shape). */
export interface RuntimeLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Options of {@link NodeRuntime}. */
export interface NodeRuntimeOptions {
  readonly nodeId: string;
  readonly driver: ContainerDriver;
  /** A full pass at least this often, events or not. Default 1000 ms. */
  readonly reconcileIntervalMs?: number;
  readonly clock?: Clock;
  readonly logger?: RuntimeLogger;
  /** Container actions carried out at once (each container's own actions stay in order). Default 4. */
  readonly concurrency?: number;
  /** Send an unchanged report again after this long if the replicated record still differs (a lost command). Default 10 s. */
  readonly resendAfterMs?: number;
  /**
   * Look for stack networks of this node that no assigned task needs any more (network-gc.ts) at
   * most this often, in a pass. Default 5000 ms.
   */
  readonly networkGcIntervalMs?: number;
  /**
   * Called before a task's container is stopped, and awaited (bounded by the caller): the service
   * mesh takes the task out of rotation and lets its open connections finish (mesh-node.ts).
   */
  readonly beforeStop?: (taskId: string, options: { readonly signal: AbortSignal }) => Promise<void>;
}

/** Receives the reports that changed; the agent turns them into one `task.report` command. */
export type ReportHandler = (reports: TaskReport[]) => void;

const silent: RuntimeLogger = { info() {}, warn() {}, error() {} };

/**
 * Keeps this node's containers matching its assignments.
 *
 * @example
 * ```ts
 * const runtime = new NodeRuntime({ nodeId, driver: new DockerDriver() });
 * runtime.onReports((reports) => propose({ type: 'task.report', nodeId, reports }));
 * await runtime.start();
 * runtime.setAssignments(assignmentsFor(nodeId, state)); // on every state change
 * ```
 */
export class NodeRuntime {
  readonly nodeId: string;
  readonly #driver: ContainerDriver;
  readonly #interval: number;
  readonly #clock: Clock;
  readonly #log: RuntimeLogger;
  readonly #concurrency: number;
  readonly #resendAfter: number;
  readonly #networkGcInterval: number;
  readonly #beforeStop: NodeRuntimeOptions['beforeStop'];
  readonly #handlers = new Set<ReportHandler>();

  /** `null` until the agent said what is assigned: until then nothing is touched. */
  #assignments: readonly RuntimeAssignment[] | null = null;
  /** The assigned task records by id (for telling which reports the records already say). */
  #records = new Map<string, RuntimeAssignment['task']>();
  #memory: RestartState = {};
  #settled: ReadonlyMap<string, SettledTask> = new Map();
  #observed: readonly ObservedContainer[] = [];
  readonly #sent = new Map<string, { json: string; at: number }>();
  /** Action chains in flight, by action key (task id or `container:<id>`). */
  readonly #inFlight = new Map<string, Promise<void>>();
  #running = 0;
  readonly #waiters: (() => void)[] = [];

  #started = false;
  #abort = new AbortController();
  #passRequested = false;
  #pass: Promise<void> | null = null;
  #intervalHandle: TimerHandle | null = null;
  /** A job's time limit may be days away: past Node's 24.8-day timer limit. */
  #wakeHandle: LongTimeout | null = null;
  #held: { readonly services: ReadonlySet<string>; readonly reason: string } | null = null;
  #wakeAt: number | null = null;
  #events: Promise<void> | null = null;
  #networkGc: Promise<void> | null = null;
  #networkGcAt = -Infinity;
  /** Where the next collection starts (network-gc.ts `after`). */
  #networkGcAfter: string | undefined = undefined;

  constructor(options: NodeRuntimeOptions) {
    if (!options.nodeId) throw new TypeError('NodeRuntime needs a nodeId: the label that tells its containers apart');
    this.nodeId = options.nodeId;
    this.#driver = options.driver;
    this.#interval = options.reconcileIntervalMs ?? 1000;
    this.#clock = options.clock ?? realClock;
    this.#log = options.logger ?? silent;
    this.#concurrency = Math.max(1, options.concurrency ?? 4);
    this.#resendAfter = options.resendAfterMs ?? 10_000;
    this.#networkGcInterval = options.networkGcIntervalMs ?? 5000;
    this.#beforeStop = options.beforeStop;
  }

  /** The tasks assigned to this node, with their services (the whole set, each time it changes). */
  setAssignments(assignments: readonly RuntimeAssignment[]): void {
    const mine = assignments.filter((a) => a.task.nodeId === this.nodeId);
    // Unchanged (assignmentsFor keeps an unchanged task's object): no pass, so a change elsewhere
    // in the cluster (a label write) costs this node no engine call. The interval pass still runs.
    if (this.#assignments && sameObjects(this.#assignments, mine)) return;
    this.#assignments = mine;
    this.#records = new Map(this.#assignments.map((a) => [a.task.id, a.task]));
    for (const id of this.#sent.keys()) if (!this.#records.has(id)) this.#sent.delete(id);
    this.#requestPass();
  }

  /**
   * Hold the tasks of `services` stopped on this node (it lost the quorum: self-fence.ts), or
   * release them (null). Takes effect in a pass at once.
   */
  setHeld(held: { readonly services: ReadonlySet<string>; readonly reason: string } | null): void {
    this.#held = held;
    this.#requestPass();
  }

  /** Subscribes to changed reports; returns the unsubscribe function. */
  onReports(handler: ReportHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** This node's containers as last observed. */
  get observed(): readonly ObservedContainer[] {
    return this.#observed;
  }

  /** Adopts the containers already labelled with this node id, then reconciles until stopped. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#abort = new AbortController();
    try {
      this.#observed = await this.#driver.list(this.nodeId, { signal: this.#abort.signal });
      this.#log.info({ containers: this.#observed.length }, 'runtime: adopted the containers of this node');
    } catch (error) {
      this.#log.warn({ err: errorMessage(error) }, 'runtime: cannot list containers yet; will retry');
    }
    this.#intervalHandle = this.#clock.setInterval(() => this.#requestPass(), this.#interval);
    if (this.#driver.events) this.#events = this.#watchEvents();
    this.#requestPass();
  }

  /** Stops reconciling. The containers keep running (static stability). */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    this.#abort.abort();
    if (this.#intervalHandle !== null) this.#clock.clearInterval(this.#intervalHandle);
    this.#wakeHandle?.clear();
    this.#intervalHandle = this.#wakeHandle = null;
    this.#wakeAt = null;
    await Promise.allSettled([this.#pass, this.#events, this.#networkGc, ...this.#inFlight.values()]);
  }

  /** Runs a pass now and waits for it and for the actions it started. */
  async reconcile(): Promise<void> {
    this.#requestPass();
    await this.idle();
  }

  /** Resolves once no pass is pending or running and no action is in flight. */
  async idle(): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      if (this.#pass === null && this.#inFlight.size === 0) return;
      await Promise.allSettled([this.#pass, ...this.#inFlight.values()]);
    }
  }

  /** Output of the container of a task on this node. */
  async *logs(taskId: string, options: LogOptions = {}): AsyncIterable<LogLine> {
    const current = this.#assignments?.find((a) => a.task.id === taskId);
    const mine = (await this.#driver.list(this.nodeId, { signal: options.signal })).filter((c) => c.taskId === taskId);
    const c = mine.find((x) => current === undefined || x.generation === current.task.generation) ?? mine[0];
    if (!c) throw new NoContainerError(taskId);
    yield* this.#driver.logs(c.id, options);
  }

  #requestPass(): void {
    this.#passRequested = true;
    if (this.#pass !== null) return;
    this.#pass = (async () => {
      try {
        while (this.#passRequested && this.#started) {
          this.#passRequested = false;
          await this.#runPass();
        }
      } finally {
        this.#pass = null;
      }
    })();
  }

  async #runPass(): Promise<void> {
    const desired = this.#assignments;
    if (desired === null) return; // the desired state is not known yet: touch nothing
    // An action that ends while the list is read may not show in it: its task stays busy for this
    // pass (its chain asks for the next pass), or a just-created container would look removed.
    const busyDuringList = new Set(this.#inFlight.keys());
    try {
      this.#observed = await this.#driver.list(this.nodeId, { signal: this.#abort.signal });
    } catch (error) {
      if (!this.#abort.signal.aborted) this.#log.warn({ err: errorMessage(error) }, 'runtime: cannot list containers');
      return;
    }
    if (!this.#started) return;
    const now = this.#clock.now();
    const plan = planNode({
      nodeId: this.nodeId,
      desired: this.#assignments ?? desired,
      observed: this.#observed,
      now,
      memory: this.#memory,
      busy: new Set([...busyDuringList, ...this.#inFlight.keys()]),
      settled: this.#settled,
      ...(this.#held === null ? {} : { held: this.#held }),
    });
    this.#memory = plan.memory;
    this.#settled = plan.settled;
    this.#emit(plan.reports, now);
    const byKey = new Map<string, Action[]>();
    for (const a of plan.actions) byKey.set(a.key, [...(byKey.get(a.key) ?? []), a]);
    for (const [key, actions] of byKey) this.#startChain(key, actions);
    this.#wakeFor(plan.nextWakeAt, now);
    this.#collectNetworks(now);
  }

  /**
   * Removes, in the background, the stack networks of this node no assigned task needs (a task
   * that never got a container leaves its network behind otherwise). At most one collection at a
   * time, at most one per interval and one after each container removal; the driver keeps any
   * network a container is on.
   */
  #collectNetworks(now: number): void {
    const driver = this.#driver;
    if (!driver.networks || !driver.removeNetwork) return;
    if (this.#networkGc !== null || now - this.#networkGcAt < this.#networkGcInterval) return;
    this.#networkGcAt = now;
    const signal = this.#abort.signal;
    this.#networkGc = (async () => {
      try {
        const networks = await driver.networks!(this.nodeId, { signal });
        // The assignments as they are now, not as the pass saw them: a task assigned meanwhile counts.
        const desired = this.#assignments;
        if (desired === null) return; // never: a pass runs only once they are known
        const after = this.#networkGcAfter;
        const unused = unusedNetworks({ nodeId: this.nodeId, desired, networks, ...(after ? { after } : {}) });
        for (const network of unused) {
          if (!this.#started) return;
          this.#networkGcAfter = network.name;
          if (await driver.removeNetwork!(network, { signal }))
            this.#log.info({ network: network.name }, 'runtime: removed a stack network no task needs');
        }
      } catch (error) {
        if (!signal.aborted) this.#log.warn({ err: errorMessage(error) }, 'runtime: cannot collect stack networks');
      } finally {
        this.#networkGc = null;
      }
    })();
  }

  #emit(reports: readonly TaskReport[], now: number): void {
    const records = this.#records;
    const changed = reports.filter((r) => {
      const t = records.get(r.taskId);
      if (t && taskStateRank(r.state) < taskStateRank(t.state)) return false; // apply would ignore it
      if (
        t &&
        t.generation === r.generation &&
        t.state === r.state &&
        t.message === r.message &&
        t.exitCode === r.exitCode &&
        t.containerId === r.containerId &&
        t.restarts === r.restarts
      ) {
        return false; // the replicated record already says so
      }
      const json = JSON.stringify(r);
      const sent = this.#sent.get(r.taskId);
      if (sent && sent.json === json && now - sent.at < this.#resendAfter) return false;
      this.#sent.set(r.taskId, { json, at: now });
      return true;
    });
    if (changed.length === 0) return;
    for (const h of this.#handlers) {
      try {
        h(changed);
      } catch (error) {
        this.#log.error({ err: errorMessage(error) }, 'runtime: report handler threw');
      }
    }
  }

  /** A create under way says how it goes (an image pull's "pulling 45 %") in the task's message. */
  #progress(a: RunnableAssignment, message: string): void {
    if (!this.#started) return;
    const mem = this.#memory[a.task.id];
    const report: TaskReport = {
      taskId: a.task.id,
      generation: a.task.generation,
      state: 'preparing',
      message,
      exitCode: null,
      containerId: null,
      restarts: mem?.generation === a.task.generation ? mem.restarts : a.task.restarts,
    };
    this.#emit([report], this.#clock.now());
  }

  #wakeFor(at: number | null, now: number): void {
    if (at === this.#wakeAt) return;
    this.#wakeHandle?.clear();
    this.#wakeHandle = null;
    this.#wakeAt = at;
    if (at === null || !this.#started) return;
    this.#wakeHandle = setLongTimeout(
      () => {
        this.#wakeHandle = null;
        this.#wakeAt = null;
        this.#requestPass();
      },
      Math.max(0, at - now),
      this.#clock,
    );
  }

  #startChain(key: string, actions: readonly Action[]): void {
    const chain = (async () => {
      await this.#acquire();
      try {
        for (const action of actions) {
          if (!this.#started) return;
          await this.#act(action);
        }
      } finally {
        this.#release();
        this.#inFlight.delete(key);
        this.#requestPass(); // observe the result at once
      }
    })();
    this.#inFlight.set(key, chain);
  }

  async #act(action: Action): Promise<void> {
    const signal = this.#abort.signal;
    try {
      switch (action.type) {
        case 'create': {
          this.#log.info({ task: action.taskId }, 'runtime: creating container');
          const progress = (message: string) => this.#progress(action.assignment, message);
          const id = await this.#driver.create(this.nodeId, action.assignment, { signal, progress });
          await this.#driver.start(id, { signal });
          return;
        }
        case 'start':
          await this.#driver.start(action.containerId, { signal });
          return;
        case 'stop':
          this.#log.info(
            { task: action.taskId, container: action.containerId, reason: action.reason },
            'runtime: stopping',
          );
          if (action.taskId !== null && this.#beforeStop !== undefined) {
            await this.#beforeStop(action.taskId, { signal }).catch((error: unknown) =>
              this.#log.warn({ task: action.taskId, err: errorMessage(error) }, 'runtime: draining before stop failed'),
            );
          }
          await this.#driver.stop(action.containerId, { graceMs: action.graceMs, signal: action.signal }, { signal });
          return;
        case 'remove':
          this.#log.info(
            { task: action.taskId, container: action.containerId, reason: action.reason },
            'runtime: removing',
          );
          await this.#driver.remove(action.containerId, { signal });
          this.#networkGcAt = -Infinity; // its networks go in the pass this chain asks for, unless still needed
          return;
      }
    } catch (error) {
      if (signal.aborted) return;
      const message = errorMessage(error);
      this.#log.warn({ action: action.type, key: action.key, err: message }, 'runtime: action failed');
      if (action.type !== 'create' && action.type !== 'start') return; // the next pass retries
      const assignment = this.#assignments?.find((a) => a.task.id === action.taskId);
      if (!assignment) return;
      const kind = error instanceof TaskRejectedError ? 'rejected' : 'failed';
      this.#memory = recordFailure(this.#memory, assignment, { kind, message }, this.#clock.now());
    }
  }

  async #acquire(): Promise<void> {
    if (this.#running < this.#concurrency) {
      this.#running++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  #release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#running--;
  }

  async #watchEvents(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        for await (const event of this.#driver.events!(this.nodeId, signal)) {
          // Healthchecks run as execs: their events say nothing about the container's state.
          if (!event.action.startsWith('exec_')) this.#requestPass();
        }
      } catch (error) {
        if (signal.aborted) return;
        this.#log.warn({ err: errorMessage(error) }, 'runtime: engine events stream broke; relying on the interval');
      }
      if (signal.aborted) return; // stop(): an abort listener added now would never fire
      // The stream ended or broke: try again after an interval (bounded by stop()).
      await new Promise<void>((resolve) => {
        const onAbort = () => {
          this.#clock.clearTimeout(h);
          resolve();
        };
        const h = this.#clock.setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        }, this.#interval);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    }
  }
}

function sameObjects<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
