/**
 * Workloads inside the agent, each node's half of the loop in DESIGN.md: the runtime makes this
 * node's containers match the tasks assigned to it (level-triggered from the replicated state)
 * and reports what it observes as `task.report` commands (report-outbox.ts). It serves its
 * tasks' logs to the other nodes, and fences itself when it loses the quorum (quorum-watch.ts).
 * A node with no drivers (`--runtime none`) still takes part in the control plane.
 */
import type { Logger } from 'pino';
import type { LogLine, LogsRequest } from '../api/types.js';
import type { RpcService } from '../p2p/index.js';
import type { Clock } from '../raft/driver/index.js';
import {
  assignmentsFor,
  fenceAfterMs,
  NodeRuntime,
  stopsOnDisconnect,
  type LiveUsage,
  type NodeRuntimeOptions,
  type ObservedContainer,
  type RuntimeLogger,
} from '../runtime/index.js';
import { isTerminal, type ServiceRecord, type TaskRecord } from '../state/workloads.js';
import type { ClusterStore } from './cluster-store.js';
import type { AgentConfig } from './config.js';
import { QuorumWatch } from './quorum-watch.js';
import { ReportOutbox } from './report-outbox.js';
import type { OpenDrivers, RuntimeDrivers } from './runtime-drivers.js';

/** A task's logs, from the node that runs it. */
export type TaskLogs = (
  task: TaskRecord,
  service: ServiceRecord,
  request: LogsRequest,
  signal?: AbortSignal,
) => AsyncIterable<LogLine>;

export interface NodeWorkloadsDeps {
  readonly selfId: string;
  readonly rpc: RpcService;
  readonly store: Pick<ClusterStore, 'state' | 'readOnce' | 'propose'>;
  readonly config: Pick<AgentConfig, 'nodeDownGraceMs'>;
  readonly openDrivers: OpenDrivers;
  readonly clock: Clock;
  readonly log: Logger;
  /** Awaited before a task's container is stopped (the mesh drains it). */
  readonly beforeStop?: NodeRuntimeOptions['beforeStop'];
}

export class NodeWorkloads {
  readonly #deps: NodeWorkloadsDeps;
  readonly #reports: ReportOutbox;
  #runtime: NodeRuntime | null = null;
  #drivers: RuntimeDrivers | null = null;
  #quorum: QuorumWatch | null = null;
  /** The local state has caught up with the cluster since start: assignments may be acted on. */
  #caughtUp = false;

  constructor(deps: NodeWorkloadsDeps) {
    this.#deps = deps;
    this.#reports = new ReportOutbox({
      selfId: deps.selfId,
      propose: (command, options) => deps.store.propose(command, options),
      clock: deps.clock,
      log: deps.log,
    });
  }

  /** Serve this node's task logs to the others (register before RPC starts). */
  register(): void {
    this.#deps.rpc.handleStream('task.logs', (payload) =>
      this.#localLogs(payload as { taskId: string; request: LogsRequest }),
    );
  }

  /** Start the runtime on the injected drivers (none: this node runs no tasks). Call once joined. */
  async start(): Promise<void> {
    if (this.#runtime) return;
    const logger = this.#runtimeLogger();
    const drivers = await this.#deps.openDrivers({ log: this.#deps.log, logger });
    if (!drivers) return;
    this.#drivers = drivers;
    this.#runtime = new NodeRuntime({
      nodeId: this.#deps.selfId,
      driver: drivers.driver,
      // The engine creates containers fastest with about 8-16 requests in flight.
      concurrency: 8,
      logger,
      ...(this.#deps.beforeStop === undefined ? {} : { beforeStop: this.#deps.beforeStop }),
    });
    this.#runtime.onReports((reports) => this.#reports.queue(reports));
    await this.#runtime.start();
    this.#quorum = new QuorumWatch({
      read: (options) => this.#deps.store.readOnce(options),
      needed: () => this.#fencedServices().size > 0,
      now: () => performance.now(),
      fenceAfterMs: () => fenceAfterMs(this.#graceMs()),
      onChange: (fenced, silentMs) => {
        const fields = { silentMs: Math.round(silentMs), fenceAfterMs: fenceAfterMs(this.#graceMs()) };
        if (fenced)
          this.#deps.log.warn(fields, 'lost the quorum: stopping the tasks of services that stop on disconnect');
        else this.#deps.log.info(fields, 'the quorum is back: tasks held stopped may run again');
        this.#applyHeld();
      },
    });
    this.#quorum.start();
    void this.#catchUp();
  }

  async stop(): Promise<void> {
    this.#quorum?.stop();
    this.#reports.stop();
    // Containers and processes keep running: losing the agent freezes changes, never workloads.
    await this.#runtime?.stop();
    this.#drivers?.close();
  }

  /** This node's containers and processes as the runtime last observed them (none before it starts). */
  observed(): readonly ObservedContainer[] {
    return this.#runtime?.observed ?? [];
  }

  /** The replicated state changed (called once per burst of applied entries). */
  stateChanged(): void {
    const state = this.#deps.store.state.view();
    if (this.#caughtUp)
      this.#runtime?.setAssignments(
        assignmentsFor(this.#deps.selfId, { tasks: state.tasks, services: state.services }),
      );
    if (this.#quorum?.fenced) this.#applyHeld();
  }

  /** A running container's CPU time and memory, when its driver measures them (the autoscaler's samples). */
  async liveUsage(containerId: string): Promise<LiveUsage | null> {
    return (await this.#drivers?.driver.liveUsage?.(containerId)) ?? null;
  }

  /** Logs of one task, from the node that runs it. */
  readonly taskLogs: TaskLogs = (task, service, request, signal) => {
    const taskName = `${service.id}.${service.spec.kind === 'global' ? (task.nodeId ?? '').slice(0, 12) : task.slot}`;
    if (task.nodeId === this.#deps.selfId) return this.#localLogs({ taskId: task.id, request, taskName });
    const remote = this.#deps.rpc.stream(
      task.nodeId!,
      'task.logs',
      { taskId: task.id, request, taskName },
      { signal, timeoutMs: 10_000 },
    );
    return remote as AsyncIterable<LogLine>;
  };

  #graceMs(): number {
    return this.#deps.config.nodeDownGraceMs ?? this.#deps.store.state.settings().nodeDownGraceMs;
  }

  /** The services with live tasks on this node that stop on disconnect. */
  #fencedServices(): Set<string> {
    const state = this.#deps.store.state;
    const services = new Set<string>();
    for (const task of state.tasksOnNode(this.#deps.selfId)) {
      if (isTerminal(task.state) && task.desiredState !== 'running') continue;
      const service = state.service(task.serviceId);
      if (service && stopsOnDisconnect(service.spec)) services.add(service.id);
    }
    return services;
  }

  /** While fenced, hold the tasks here of the services that stop on disconnect (self-fence.ts). */
  #applyHeld(): void {
    if (!this.#runtime || !this.#quorum) return;
    if (!this.#quorum.fenced) {
      this.#runtime.setHeld(null);
      return;
    }
    const services = this.#fencedServices();
    const reason = `this node lost the cluster's quorum ${Math.round(this.#quorum.silentMs / 100) / 10} s ago (x-shoal.on_disconnect: stop)`;
    this.#runtime.setHeld({ services, reason });
  }

  #runtimeLogger(): RuntimeLogger {
    const log = this.#deps.log.child({ component: 'runtime' });
    return {
      info: (obj, msg) => log.info(obj, msg),
      warn: (obj, msg) => log.warn(obj, msg),
      error: (obj, msg) => log.error(obj, msg),
    };
  }

  /**
   * After a restart the local log may be behind: acting on it could start a replica that was
   * already replaced elsewhere. Wait for a linearizable read (this node has applied everything
   * committed before it); without a quorum for 10 s, act on local state anyway so this node
   * still restarts its own crashed containers (static stability).
   */
  async #catchUp(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && this.#runtime) {
      try {
        await this.#deps.store.readOnce({ signal: AbortSignal.timeout(2_000) });
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    this.#caughtUp = true;
    this.stateChanged();
  }

  async *#localLogs({
    taskId,
    request,
    taskName,
  }: {
    taskId: string;
    request: LogsRequest;
    taskName?: string;
  }): AsyncIterable<LogLine> {
    if (!this.#runtime) return;
    const lines = this.#runtime.logs(taskId, {
      follow: request.follow ?? false,
      ...(request.tail !== undefined ? { tail: request.tail } : {}),
      ...(request.since !== undefined ? { since: request.since } : {}),
    });
    for await (const line of lines) {
      yield {
        taskId,
        taskName: taskName ?? taskId,
        nodeId: this.#deps.selfId,
        stream: line.stream,
        time: line.time,
        line: line.line,
      };
    }
  }
}
