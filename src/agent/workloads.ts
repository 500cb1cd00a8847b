/**
 * Workloads inside the agent, both halves of the loop in DESIGN.md:
 * - on every node, the runtime makes this node's containers match the tasks assigned to it
 *   (level-triggered from the replicated state) and reports what it observes as `task.report`
 *   commands;
 * - on the leader, the controllers (orchestrators, scheduler, node health, GC) turn the state
 *   into commands, once a second and soon after each change.
 * A node without a Docker Engine still takes part in the control plane; it runs no containers.
 */
import { randomBytes } from 'node:crypto';
import type { LogLine, LogsRequest } from '../api/types.js';
import { reconcileWorkloads } from '../controllers/index.js';
import { join } from 'node:path';
import { DriverRouter } from '../runtime/driver-router.js';
import {
  assignmentsFor,
  DockerDriver,
  fenceAfterMs,
  NodeRuntime,
  stopsOnDisconnect,
  type RuntimeLogger,
  type TaskReport,
} from '../runtime/index.js';
import { QuorumWatch } from './quorum-watch.js';
import { ProcessDriver } from '../runtime/process/index.js';
import { isTerminal, type ServiceRecord, type TaskRecord } from '../state/workloads.js';
import type { AgentContext } from './agent.js';
import type { CommandWriter } from './writes.js';

const LEADER_PASS_MS = 500;
const REPORT_FLUSH_MS = 100;
const URGENT_REPORT_FLUSH_MS = 5;

export class WorkloadHost {
  readonly #agent: AgentContext;
  readonly #writer: CommandWriter;
  #runtime: NodeRuntime | null = null;
  #quorum: QuorumWatch | null = null;
  #processes: ProcessDriver | null = null;
  #leaderTimer: ReturnType<typeof setInterval> | null = null;
  #leaderSince = 0;
  #passRunning = false;
  #passAgain = false;
  #stateDirty = false;
  /** Reports waiting to be sent: the newest per task wins. */
  readonly #outbox = new Map<string, TaskReport>();
  #flushTimer: ReturnType<typeof setTimeout> | null = null;
  #flushUrgent = false;
  /** The local state has caught up with the cluster since start: assignments may be acted on. */
  #caughtUp = false;

  constructor(agent: AgentContext, writer: CommandWriter) {
    this.#agent = agent;
    this.#writer = writer;
  }

  register(): void {
    this.#agent.rpc.handleStream('task.logs', (payload) =>
      this.#localLogs(payload as { taskId: string; request: LogsRequest }),
    );
  }

  /**
   * Start the runtime: host processes always (unless `none`), Docker containers when an engine
   * answers (otherwise say so: container tasks are then rejected on this node with that reason).
   */
  async start(mode: 'docker' | 'process' | 'none'): Promise<void> {
    if (mode === 'none') return;
    let docker: DockerDriver | null = null;
    if (mode === 'docker') {
      docker = new DockerDriver({});
      try {
        await docker.ping();
      } catch (error) {
        this.#agent.log.warn(
          { err: error },
          'no Docker Engine answers: this node runs host-process tasks only (start dockerd, then restart the agent)',
        );
        docker = null;
      }
    }
    const processes = new ProcessDriver({
      stateDir: join(this.#agent.config.dataDir, 'processes'),
      logger: this.#runtimeLogger(),
    });
    const support = processes.limitsSupport();
    if (!support.cpu || !support.memory)
      this.#agent.log.info(
        { cpu: support.cpu, memory: support.memory, reason: support.reason },
        'the process runtime cannot enforce every limit on this host',
      );
    this.#processes = processes;
    const driver = new DriverRouter({ docker, process: processes });
    this.#runtime = new NodeRuntime({
      nodeId: this.#agent.host.peerId,
      driver,
      // The engine creates containers fastest with about 8-16 requests in flight.
      concurrency: 8,
      logger: this.#runtimeLogger(),
    });
    this.#runtime.onReports((reports) => this.#queueReports(reports));
    await this.#runtime.start();
    this.#quorum = new QuorumWatch({
      read: (options) => {
        const raft = this.#agent.raft();
        return raft ? raft.read(options) : Promise.reject(new Error('not in a cluster'));
      },
      needed: () => this.#fencedServices().size > 0,
      now: () => performance.now(),
      fenceAfterMs: () => fenceAfterMs(this.#graceMs()),
      onChange: (fenced, silentMs) => {
        const fields = { silentMs: Math.round(silentMs), fenceAfterMs: fenceAfterMs(this.#graceMs()) };
        if (fenced)
          this.#agent.log.warn(fields, 'lost the quorum: stopping the tasks of services that stop on disconnect');
        else this.#agent.log.info(fields, 'the quorum is back: tasks held stopped may run again');
        this.#applyHeld();
      },
    });
    this.#quorum.start();
    void this.#catchUp();
  }

  #graceMs(): number {
    return this.#agent.config.nodeDownGraceMs ?? this.#agent.state.settings().nodeDownGraceMs;
  }

  /** The services with live tasks on this node that stop on disconnect. */
  #fencedServices(): Set<string> {
    const services = new Set<string>();
    for (const task of this.#agent.state.tasksOnNode(this.#agent.host.peerId)) {
      if (isTerminal(task.state) && task.desiredState !== 'running') continue;
      const service = this.#agent.state.service(task.serviceId);
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
    const log = this.#agent.log.child({ component: 'runtime' });
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
      const raft = this.#agent.raft();
      try {
        if (raft) {
          await raft.read({ signal: AbortSignal.timeout(2_000) });
          break;
        }
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    this.#caughtUp = true;
    this.stateChanged();
  }

  async stop(): Promise<void> {
    this.leadershipLost();
    this.#quorum?.stop();
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    // Containers and processes keep running: losing the agent freezes changes, never workloads.
    await this.#runtime?.stop();
    this.#processes?.close();
  }

  /** The replicated state changed (called once per burst of applied entries). */
  stateChanged(): void {
    const state = this.#agent.state.state();
    if (this.#caughtUp)
      this.#runtime?.setAssignments(
        assignmentsFor(this.#agent.host.peerId, { tasks: state.tasks, services: state.services }),
      );
    if (this.#quorum?.fenced) this.#applyHeld();
    if (this.#leaderTimer) {
      this.#stateDirty = true;
      void this.#leaderPass();
    }
  }

  /**
   * A member's connection closed: if it stays silent, it is declared down when its grace period
   * ends. Run a controller pass right then rather than at the next tick of the timer.
   */
  memberDisconnected(): void {
    if (!this.#leaderTimer) return;
    const grace = this.#graceMs();
    setTimeout(() => void this.#leaderPass(), grace + 20).unref();
  }

  leadershipGained(): void {
    if (this.#leaderTimer) return;
    this.#leaderSince = Date.now();
    this.#leaderTimer = setInterval(() => void this.#leaderPass(), LEADER_PASS_MS);
    this.#leaderTimer.unref();
  }

  leadershipLost(): void {
    if (this.#leaderTimer) clearInterval(this.#leaderTimer);
    this.#leaderTimer = null;
  }

  /** Logs of one task, from the node that runs it. */
  taskLogs(
    task: TaskRecord,
    service: ServiceRecord,
    request: LogsRequest,
    signal?: AbortSignal,
  ): AsyncIterable<LogLine> {
    const taskName = `${service.id}.${service.spec.kind === 'global' ? (task.nodeId ?? '').slice(0, 12) : task.slot}`;
    if (task.nodeId === this.#agent.host.peerId) return this.#localLogs({ taskId: task.id, request, taskName });
    const remote = this.#agent.rpc.stream(
      task.nodeId!,
      'task.logs',
      { taskId: task.id, request, taskName },
      { signal, timeoutMs: 10_000 },
    );
    return remote as AsyncIterable<LogLine>;
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
        nodeId: this.#agent.host.peerId,
        stream: line.stream,
        time: line.time,
        line: line.line,
      };
    }
  }

  #queueReports(reports: TaskReport[]): void {
    for (const report of reports) this.#outbox.set(report.taskId, report);
    // An ended task frees resources the queue is waiting for: send it almost at once.
    const urgent = reports.some((r) => isTerminal(r.state));
    if (urgent && this.#flushTimer && !this.#flushUrgent) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = null;
    }
    if (urgent) this.#flushUrgent = true;
    this.#flushTimer ??= setTimeout(
      () => void this.#flushReports(),
      this.#flushUrgent ? URGENT_REPORT_FLUSH_MS : REPORT_FLUSH_MS,
    );
  }

  /** One `task.report` per burst; on failure the reports stay queued and go with the next burst. */
  async #flushReports(): Promise<void> {
    this.#flushTimer = null;
    this.#flushUrgent = false;
    if (this.#outbox.size === 0) return;
    const reports = [...this.#outbox.values()].map((r) => ({ ...r, message: r.message.slice(0, 4000) }));
    this.#outbox.clear();
    try {
      await this.#writer.submit(
        { type: 'task.report', nodeId: this.#agent.host.peerId, reports },
        {
          deadlineMs: 5_000,
        },
      );
    } catch (error) {
      this.#agent.log.warn({ err: error, reports: reports.length }, 'could not report task states; retrying');
      for (const report of reports) if (!this.#outbox.has(report.taskId)) this.#outbox.set(report.taskId, report);
      this.#flushTimer ??= setTimeout(() => void this.#flushReports(), 1_000);
    }
  }

  /** One controller pass on the leader: reconcile, then propose the commands in order. */
  async #leaderPass(): Promise<void> {
    if (this.#passRunning) {
      this.#passAgain = true;
      return;
    }
    this.#passRunning = true;
    try {
      // A few passes back to back while the state keeps changing, then wait for the timer.
      for (let round = 0; round < 10; round++) {
        this.#passAgain = false;
        this.#stateDirty = false;
        const raft = this.#agent.raft();
        if (!raft || raft.leader !== this.#agent.host.peerId || !this.#agent.state.cluster()) return;
        const settings = this.#agent.state.settings();
        const commands = reconcileWorkloads({
          state: this.#agent.state.state(),
          now: Date.now(),
          // Hex: a task id must start with a letter or digit (base64url may start with - or _).
          newId: () => randomBytes(8).toString('hex'),
          health: {
            lastHeartbeat: this.#agent.lastHeard(),
            leaderSince: this.#leaderSince,
            graceMs: this.#agent.config.nodeDownGraceMs ?? settings.nodeDownGraceMs,
            selfId: this.#agent.host.peerId,
          },
        });
        for (const command of commands) {
          if (command.type === 'node.setStatus') this.#logNodeStatus(command.id, command.status);
          const result = await this.#writer.submit(command, { deadlineMs: 5_000 }).catch((error: unknown) => {
            this.#agent.log.warn({ err: error, type: command.type }, 'controller command refused');
            return null;
          });
          if (!result) break;
        }
        if (commands.length === 0 || !(this.#passAgain || this.#stateDirty)) break;
      }
    } catch (error) {
      this.#agent.log.warn({ err: error }, 'controller pass failed; retrying on the next pass');
    } finally {
      this.#passRunning = false;
    }
  }

  /** Marking a node down moves its replicas: that is worth a line at info level (warn), with why. */
  #logNodeStatus(nodeId: string, status: string): void {
    const node = this.#agent.state.node(nodeId);
    const tasks = this.#agent.state.tasksOnNode(nodeId).filter((t) => !isTerminal(t.state)).length;
    const heard = this.#agent.lastHeard().get(nodeId);
    const silentMs = heard === undefined ? null : Date.now() - heard;
    const fields = { node: nodeId, hostname: node?.hostname, status, tasks, silentMs };
    if (status === 'down')
      this.#agent.log.warn(
        fields,
        `marking node ${node?.hostname ?? nodeId} down: silent past the node grace; its ${tasks} live tasks will be placed elsewhere`,
      );
    else this.#agent.log.info(fields, `node ${node?.hostname ?? nodeId} is ${status} again`);
  }
}
