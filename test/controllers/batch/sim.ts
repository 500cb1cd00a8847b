/**
 * A batch cluster in process, with virtual time: the REAL state machine apply (`applyCommand`,
 * every command validated first as a follower would decode it), the REAL leader controllers
 * (`reconcileWorkloads`: node health, orchestrators, jobs, placement, GC) and a simulated runtime
 * per node that runs each assigned task for a duration the test chooses.
 *
 * A step is: one controller pass (its commands applied in order), then one step of every live
 * node's runtime (one `task.report` per node), then heartbeats, then the clock moves on.
 */
import {
  reconcileWorkloads,
  type IdGenerator,
  type JobHistoryLimits,
  type WorkloadCommandInput,
} from '../../../src/controllers/index.js';
import { hashService, parseStackOrThrow, type ServiceSpec, type StackSpec } from '../../../src/stack/index.js';
import { applyCommand } from '../../../src/state/apply.js';
import type { JobDependency, JobRecord, TaskOutcome } from '../../../src/state/jobs.js';
import {
  ChangeTracker,
  emptyIndexedState,
  isTerminal,
  plainState,
  validateCommand,
  type ChangeSet,
  type ClusterState,
  type IndexedState,
  type Command,
  type CommandInput,
  type TaskRecord,
  type TaskReport,
} from '../../../src/state/index.js';
import { T0, init, peerId, register } from '../../state/helpers.js';

export const GiB = 2 ** 30;

/**
 * How a task's container ends: after `ms` of running, with `exitCode` (0 = complete); `oomKilled`
 * fails it as the runtime does when the kernel killed a process for memory, whatever the exit
 * code; `peakMemoryBytes` is what the runtime measured (0: it could not know; default 64 MiB).
 */
export interface RunPlan {
  readonly ms: number;
  readonly exitCode: number;
  readonly oomKilled?: boolean;
  readonly peakMemoryBytes?: number;
}

/** Chooses each task's run; called once per task, when its container starts. */
export type Runner = (task: TaskRecord, job: JobRecord | undefined) => RunPlan;

export interface NodeShape {
  readonly cpus?: number;
  readonly memoryBytes?: number;
  readonly gpus?: number;
}

export interface SimOptions {
  /** One entry per node (default: two nodes of 4 CPUs, 16 GiB). */
  readonly nodes?: readonly NodeShape[];
  readonly runner?: Runner;
  /** Node-health grace (ms), default 5,000. */
  readonly graceMs?: number;
  /** What job GC keeps (the controller's `jobHistory`). */
  readonly jobHistory?: JobHistoryLimits;
}

export interface SubmitOptions {
  readonly name?: string;
  /** The `x-shoal.job` mapping, as Compose YAML flow text, e.g. `{array: "0-9%2", retries: 1}`. */
  readonly job?: string;
  /** `deploy.resources.reservations.cpus`. */
  readonly cpus?: number;
  readonly namespace?: string;
  readonly owner?: string;
  readonly priority?: number;
  readonly beginAt?: number;
  readonly dependencies?: readonly JobDependency[];
}

/** The `job.submit` command input for `o`, as `shoal job submit` would make it. */
export function jobSubmit(o: SubmitOptions = {}): Extract<CommandInput, { type: 'job.submit' }> {
  const spec = jobSpec(o);
  return {
    type: 'job.submit',
    name: o.name ?? 'work',
    owner: o.owner ?? 'alice',
    namespace: o.namespace ?? spec.scheduling.namespace,
    priority: o.priority ?? spec.scheduling.priority,
    beginAt: o.beginAt ?? 0,
    dependencies: o.dependencies ?? [],
    spec,
    specHash: hashService(spec),
  };
}

/** A task runs 1 s and succeeds. */
export const quickSuccess: Runner = () => ({ ms: 1000, exitCode: 0 });

/** A `kind: job` service spec from Compose text, through the real parser. */
export function jobSpec(o: Pick<SubmitOptions, 'job' | 'cpus' | 'namespace'> = {}): ServiceSpec {
  const lines = ['services:', '  work:', '    image: busybox:1.36'];
  if (o.cpus !== undefined)
    lines.push('    deploy:', '      resources:', '        reservations:', `          cpus: "${o.cpus}"`);
  lines.push('    x-shoal:', '      kind: job');
  if (o.namespace !== undefined) lines.push(`      namespace: ${o.namespace}`);
  if (o.job !== undefined) lines.push(`      job: ${o.job}`);
  return parseStackOrThrow(lines.join('\n') + '\n', { file: '/tmp/compose.yml', name: 'sim' }).services.work!;
}

/** Parse a whole stack (for `stack.deploy`). */
export function stackOf(yaml: string, name: string): StackSpec {
  return parseStackOrThrow(yaml, { file: '/tmp/compose.yml', name });
}

export class BatchSim {
  now = T0;
  #view: IndexedState = emptyIndexedState();
  /** What the commands applied since the last {@link takeChanges} touched. */
  readonly #changes = new ChangeTracker();
  readonly nodeIds: string[] = [];
  /** Every command applied, in order (for traces in failure messages). */
  readonly log: Command[] = [];
  /** The most live job tasks seen at once after a step, per job id. */
  readonly peakLive = new Map<string, number>();
  runner: Runner;
  readonly #dead = new Set<string>();
  readonly #heartbeats = new Map<string, number>();
  #leaderSince = T0;
  readonly #graceMs: number;
  readonly #jobHistory: JobHistoryLimits | undefined;
  #ids = 0;
  /** Planned run of each started task (task id → plan), chosen once when its container starts. */
  readonly #plans = new Map<string, RunPlan>();

  constructor(o: SimOptions = {}) {
    this.runner = o.runner ?? quickSuccess;
    this.#graceMs = o.graceMs ?? 5000;
    this.#jobHistory = o.jobHistory;
    this.applyCommand(init(this.now));
    const shapes = o.nodes ?? [{}, {}];
    shapes.forEach((shape, i) => {
      const id = peerId(i + 1);
      const gpus = Array.from({ length: shape.gpus ?? 0 }, (_, g) => ({
        index: g,
        uuid: `GPU-${i + 1}-${g}`,
        name: 'sim',
        memoryBytes: 16 * GiB,
      }));
      this.applyCommand(
        register(i + 1, this.now, {
          resources: { cpus: shape.cpus ?? 4, memoryBytes: shape.memoryBytes ?? 16 * GiB, gpus },
        }),
      );
      this.nodeIds.push(id);
      this.#heartbeats.set(id, this.now);
    });
  }

  /** The state with its tasks as a plain record (built once per version). */
  get state(): ClusterState {
    return plainState(this.#view);
  }

  /** The state as the leader's controllers read it (tasks indexed). */
  get view(): IndexedState {
    return this.#view;
  }

  /** What changed since the last call (the first call: `full`), as the leader takes it. */
  takeChanges(): ChangeSet {
    return this.#changes.take();
  }

  /** The next {@link takeChanges} is full (the pass that took them acted on none). */
  resetChanges(): void {
    this.#changes.markFull();
  }

  #set(state: IndexedState): void {
    this.#changes.record(this.#view, state);
    this.#view = state;
  }

  /** Apply a full command; throws (failing the test) when it is invalid or refused. */
  applyCommand(command: Command): ClusterState {
    const valid = validateCommand(command);
    const outcome = applyCommand(this.#view, valid);
    if (!outcome.ok) throw new Error(`${command.type} refused at t+${this.now - T0}ms: ${outcome.error}`);
    this.#set(outcome.state);
    this.log.push(valid);
    return this.state;
  }

  /** Stamp `v: 1, at: now` on a command input and apply it. */
  apply(input: CommandInput | WorkloadCommandInput): ClusterState {
    return this.applyCommand({ ...input, v: 1, at: this.now } as Command);
  }

  /** Apply, returning the refusal instead of throwing. */
  tryApply(input: CommandInput | WorkloadCommandInput): { ok: true } | { ok: false; error: string } {
    const outcome = applyCommand(this.#view, validateCommand({ ...input, v: 1, at: this.now }));
    if (!outcome.ok) return outcome;
    this.#set(outcome.state);
    return { ok: true };
  }

  readonly newId = (): string => `t${++this.#ids}`;

  /**
   * What the leader would propose now (nothing applied): a full pass, or one scoped by `changes`.
   */
  plan(o: { changes?: ChangeSet; newId?: IdGenerator } = {}): WorkloadCommandInput[] {
    return reconcileWorkloads({
      state: this.#view,
      now: this.now,
      newId: o.newId ?? this.newId,
      ...(o.changes === undefined ? {} : { changes: o.changes }),
      health: { lastHeartbeat: this.#heartbeats, leaderSince: this.#leaderSince, graceMs: this.#graceMs },
      ...(this.#jobHistory === undefined ? {} : { jobHistory: this.#jobHistory }),
    });
  }

  /** One leader pass, all its commands applied in order; returns them. */
  pass(): WorkloadCommandInput[] {
    const commands = this.plan();
    for (const c of commands) this.apply(c);
    return commands;
  }

  /** A new leader takes office now: it has heard no heartbeats yet. */
  leaderChange(): void {
    this.#leaderSince = this.now;
    this.#heartbeats.clear();
  }

  /** Submit a job (`job.submit`); returns its id. */
  submit(o: SubmitOptions = {}): string {
    const before = this.state.counters.job;
    this.apply(jobSubmit(o));
    if (this.state.counters.job !== before + 1) throw new Error('job.submit did not create a job');
    return String(before + 1);
  }

  /** Deploy a stack (`stack.deploy`). */
  deploy(stack: StackSpec): void {
    this.apply({
      type: 'stack.deploy',
      name: stack.name,
      services: Object.values(stack.services).map((spec) => ({ name: spec.name, spec, specHash: hashService(spec) })),
    });
  }

  /** The node stops reporting and sending heartbeats (its containers are lost with it). */
  kill(nodeId: string): void {
    this.#dead.add(nodeId);
  }

  /** A killed node is back: it reports and sends heartbeats again. */
  revive(nodeId: string): void {
    this.#dead.delete(nodeId);
  }

  job(id: string): JobRecord {
    const job = this.state.jobs[id];
    if (job === undefined) throw new Error(`no job ${id} in the state`);
    return job;
  }

  /** The tasks of a job, oldest first. */
  tasksOf(jobId: string): TaskRecord[] {
    return Object.values(this.state.tasks)
      .filter((t) => t.job?.jobId === jobId)
      .sort((a, b) => a.createdAt - b.createdAt || Number(a.id.slice(1)) - Number(b.id.slice(1)));
  }

  /** Tasks of a job not yet ended (orphaned counts as ended). */
  liveTasksOf(jobId: string): TaskRecord[] {
    return this.tasksOf(jobId).filter((t) => !isTerminal(t.state));
  }

  /** One step of every live node's runtime: one `task.report` per node with something to say. */
  runtimes(): void {
    for (const nodeId of this.nodeIds) {
      if (this.#dead.has(nodeId)) continue;
      const reports: TaskReport[] = [];
      for (const task of Object.values(this.state.tasks)) {
        if (task.nodeId !== nodeId || isTerminal(task.state) || task.state === 'pending' || task.state === 'new')
          continue;
        const report = this.#runtimeStep(task);
        if (report !== null) reports.push(report);
      }
      if (reports.length > 0)
        this.apply({ type: 'task.report', nodeId, reports: reports.sort((a, b) => (a.taskId < b.taskId ? -1 : 1)) });
    }
  }

  #runtimeStep(task: TaskRecord): TaskReport | null {
    const base = { taskId: task.id, generation: task.generation, containerId: `c-${task.id}`, restarts: 0 };
    if (task.desiredState === 'shutdown') return this.#end(task, base, 'shutdown', null, 'stopped');
    if (task.state !== 'running') {
      const job = task.job === undefined ? undefined : this.state.jobs[task.job.jobId];
      this.#plans.set(task.id, this.runner(task, job));
      return { ...base, state: 'running', message: 'started', exitCode: null };
    }
    const plan = this.#plans.get(task.id)!;
    const ranFor = this.now - (task.startedAt ?? this.now);
    const limit = this.#timeLimit(task);
    if (limit > 0 && plan.ms > limit && ranFor >= limit)
      return this.#end(task, base, 'failed', 137, 'time limit reached', 'TIMEOUT');
    if (ranFor < plan.ms) return null;
    if (plan.oomKilled === true)
      return this.#end(task, base, 'failed', plan.exitCode, 'killed: out of memory', 'OUT_OF_MEMORY');
    return plan.exitCode === 0
      ? this.#end(task, base, 'complete', 0, 'exited 0')
      : this.#end(task, base, 'failed', plan.exitCode, `exited ${plan.exitCode}`);
  }

  #end(
    task: TaskRecord,
    base: Pick<TaskReport, 'taskId' | 'generation' | 'containerId' | 'restarts'>,
    state: 'complete' | 'failed' | 'shutdown',
    exitCode: number | null,
    message: string,
    outcome?: TaskOutcome,
  ): TaskReport {
    const ranFor = Math.max(0, this.now - (task.startedAt ?? this.now));
    return {
      ...base,
      state,
      message,
      exitCode,
      usage: { cpuMs: ranFor, peakMemoryBytes: this.#plans.get(task.id)?.peakMemoryBytes ?? 64 * 2 ** 20 },
      ...(outcome === undefined ? {} : { outcome }),
    };
  }

  #timeLimit(task: TaskRecord): number {
    return this.state.services[task.serviceId]?.spec.job?.timeLimitMs ?? 0;
  }

  /**
   * Pass, runtimes, heartbeats, then the clock advances by `ms`. With `keep`, only the pass's first
   * `keep` commands are applied and a new leader takes office: the old one died mid-pass.
   * Returns the pass's commands that were applied.
   */
  step(ms = 1000, keep?: number): WorkloadCommandInput[] {
    let applied: WorkloadCommandInput[];
    if (keep === undefined) applied = this.pass();
    else {
      applied = this.plan().slice(0, keep);
      for (const c of applied) this.apply(c);
      this.leaderChange();
    }
    this.runtimes();
    this.heartbeat();
    for (const jobId of Object.keys(this.state.jobs)) {
      const live = this.liveTasksOf(jobId).length;
      this.peakLive.set(jobId, Math.max(this.peakLive.get(jobId) ?? 0, live));
    }
    this.now += ms;
    return applied;
  }

  /** Every live node sends a heartbeat now. */
  heartbeat(): void {
    for (const id of this.nodeIds) if (!this.#dead.has(id)) this.#heartbeats.set(id, this.now);
  }

  /** Step until `done()` holds; throws after `maxSteps` steps. Returns the steps taken. */
  runUntil(done: () => boolean, maxSteps = 200, ms = 1000): number {
    for (let i = 0; i < maxSteps; i++) {
      if (done()) return i;
      this.step(ms);
    }
    if (done()) return maxSteps;
    throw new Error(`runUntil: not done after ${maxSteps} steps (t+${this.now - T0}ms); jobs: ${this.describeJobs()}`);
  }

  /** Until every job has ended. */
  runToEnd(maxSteps = 200, ms = 1000): number {
    return this.runUntil(
      () => Object.values(this.state.jobs).every((j) => j.state !== 'PENDING' && j.state !== 'RUNNING'),
      maxSteps,
      ms,
    );
  }

  describeJobs(): string {
    return Object.values(this.state.jobs)
      .map((j) => `${j.id}:${j.state}(${j.succeeded}/${j.units} ok, ${j.failed} failed) ${j.reason}`)
      .join('; ');
  }
}
