/**
 * A tiny in-memory engine for planner scenario tests on virtual time: it carries out planner
 * actions instantly and lets a test make containers exit, turn (un)healthy or vanish.
 */
import {
  planNode,
  recordFailure,
  type Action,
  type ActionFailure,
  type ObservedContainer,
  type RestartState,
  type RuntimeAssignment,
  type TaskReport,
} from '../../src/runtime/index.js';

export class SimEngine {
  containers: ObservedContainer[] = [];
  memory: RestartState = {};
  now = 0;
  readonly log: Action[] = [];
  #next = 0;
  /** Fails the next create or start of this task with this failure. */
  failNext = new Map<string, ActionFailure>();

  constructor(
    readonly nodeId: string,
    public desired: RuntimeAssignment[],
  ) {}

  /** One planner pass; actions are carried out at once. */
  pass(): { actions: Action[]; reports: TaskReport[]; nextWakeAt: number | null } {
    const r = planNode({
      nodeId: this.nodeId,
      desired: this.desired,
      observed: this.containers,
      now: this.now,
      memory: this.memory,
    });
    this.memory = r.memory;
    for (const a of r.actions) this.#apply(a);
    return { actions: r.actions, reports: r.reports, nextWakeAt: r.nextWakeAt };
  }

  /** Runs passes until one asks for nothing (bounded). Returns the last pass's reports. */
  settle(): TaskReport[] {
    for (let i = 0; i < 10; i++) {
      const r = this.pass();
      if (r.actions.length === 0) return r.reports;
    }
    throw new Error('planner did not settle in 10 passes');
  }

  exit(taskId: string, exitCode: number, oomKilled = false): void {
    this.#update(taskId, (c) => ({ ...c, status: 'exited', exitCode, finishedAt: this.now, oomKilled }));
  }

  health(taskId: string, health: ObservedContainer['health'], output = ''): void {
    this.#update(taskId, (c) => ({ ...c, health, healthOutput: output }));
  }

  vanish(taskId: string): void {
    this.containers = this.containers.filter((c) => c.taskId !== taskId);
  }

  of(taskId: string): ObservedContainer | undefined {
    return this.containers.find((c) => c.taskId === taskId);
  }

  #update(taskId: string, f: (c: ObservedContainer) => ObservedContainer): void {
    this.containers = this.containers.map((c) => (c.taskId === taskId ? f(c) : c));
  }

  #apply(a: Action): void {
    this.log.push(a);
    const failure = a.type === 'create' || a.type === 'start' ? this.failNext.get(a.taskId) : undefined;
    if (failure && (a.type === 'create' || a.type === 'start')) {
      this.failNext.delete(a.taskId);
      const assignment = this.desired.find((d) => d.task.id === a.taskId)!;
      this.memory = recordFailure(this.memory, assignment, failure, this.now);
      return;
    }
    switch (a.type) {
      case 'create': {
        const { task, service } = a.assignment;
        const hc = service.spec.healthcheck !== null && !service.spec.healthcheck.disabled;
        this.containers.push({
          id: `c${++this.#next}`,
          name: `shoal-${service.id}.${task.slot}.${task.id}`,
          nodeId: this.nodeId,
          taskId: task.id,
          generation: task.generation,
          labels: {},
          status: 'running',
          exitCode: null,
          health: hc ? 'starting' : 'none',
          healthOutput: '',
          startedAt: this.now,
          finishedAt: null,
          error: '',
          oomKilled: false,
          stopSignal: service.spec.stopSignal,
          stopGraceMs: service.spec.stopGracePeriodMs,
        });
        return;
      }
      case 'start':
        this.containers = this.containers.map((c) =>
          c.id === a.containerId
            ? { ...c, status: 'running', startedAt: this.now, health: c.health === 'none' ? 'none' : 'starting' }
            : c,
        );
        return;
      case 'stop':
        this.containers = this.containers.map((c) =>
          c.id === a.containerId ? { ...c, status: 'exited', exitCode: 143, finishedAt: this.now } : c,
        );
        return;
      case 'remove':
        this.containers = this.containers.filter((c) => c.id !== a.containerId);
        return;
    }
  }
}
