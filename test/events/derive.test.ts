import { EventRecorder, EventWindow, type ClusterEvent } from '../../src/events/index.js';
import { registerClusterMetrics } from '../../src/metrics/cluster-metrics.js';
import { MetricRegistry } from '../../src/metrics/registry.js';
import { ClusterStateMachine, type CommandInput, type JobState } from '../../src/state/index.js';
import { jobSubmit } from '../controllers/batch/sim.js';
import { T0, init, peerId, register } from '../state/helpers.js';
import {
  WEB,
  applyAll,
  applyNext,
  deployOf,
  deployed,
  reportOf,
  running,
  stamp,
  withSpec,
} from '../state/workload-helpers.js';

/** A machine whose applied commands fill a window, as every agent's does. */
function recorded(machine = new ClusterStateMachine()): {
  machine: ClusterStateMachine;
  window: EventWindow;
  errors: unknown[];
} {
  const window = new EventWindow();
  const errors: unknown[] = [];
  machine.observeApplied(new EventRecorder({ window, now: () => T0, log: { error: (o) => errors.push(o) } }));
  return { machine, window, errors };
}

function all(window: EventWindow): ClusterEvent[] {
  const out: ClusterEvent[] = [];
  for (let seq = window.firstSeq; seq < window.nextSeq; seq++) out.push(window.get(seq)!);
  return out;
}

const brief = (e: ClusterEvent) => `${e.index}.${e.sub} ${e.type} ${e.action} ${e.name}`;

describe('event derivation', () => {
  it('deriveEvents() turns a deploy into a stack event and one per service created, at its log index', () => {
    const { machine, window } = recorded();
    applyAll(machine, deployedCommands());
    const events = all(window);
    const deploy = events.filter((e) => e.type === 'stack' || e.type === 'service');
    expect(deploy.map(brief)).toEqual([
      '5.0 stack deployed web',
      '5.1 service created web_agent',
      '5.2 service created web_api',
      '5.3 service created web_batch',
    ]);
    expect(deploy[0]!.message).toBe('stack web deployed: 3 created, 0 updated, 0 removed');
    expect(deploy[0]!.time).toBe(T0 + 10);
    expect(events.filter((e) => e.type === 'node').map((e) => e.action)).toEqual(['joined', 'joined', 'joined']);
    expect(events[0]).toMatchObject({ index: 1, sub: 0, type: 'cluster', action: 'created' });
  });

  it('a redeploy with a changed spec says updated; an unchanged one says no change', () => {
    const { machine, window } = recorded();
    applyAll(machine, deployedCommands());
    const api = WEB.services.api!;
    applyNext(machine, deployOf(WEB, T0 + 50, { ...WEB.services, api: withSpec(api, { image: 'nginx:1.28' }) }));
    applyNext(machine, deployOf(WEB, T0 + 60, { ...WEB.services, api: withSpec(api, { image: 'nginx:1.28' }) }));
    const messages = all(window)
      .filter((e) => e.type === 'stack' || e.type === 'service')
      .slice(4)
      .map((e) => e.message);
    expect(messages).toEqual([
      'stack web deployed: 0 created, 1 updated, 0 removed',
      'service web_api updated (version 2)',
      'service web_api rollout started (version 1 → 2)',
      'stack web deployed: no change',
    ]);
  });

  it('task state changes carry the reason; transient steps are left out', () => {
    const { machine, window } = recorded(running());
    const before = window.nextSeq;
    applyAll(machine, [
      reportOf(1, 'web-api-1', 1, 'preparing', T0 + 40),
      reportOf(1, 'web-api-1', 1, 'running', T0 + 41),
      reportOf(2, 'web-api-2', 2, 'failed', T0 + 42, { message: 'image not found', exitCode: 125 }),
    ]);
    const events = all(window).slice(before - window.firstSeq);
    expect(events.map((e) => `${e.type} ${e.action} ${e.name}`)).toEqual([
      'task running web_api.1',
      'task failed web_api.2',
    ]);
    expect(events[1]).toMatchObject({
      from: 'assigned',
      to: 'failed',
      exitCode: 125,
      service: 'web_api',
      stack: 'web',
      node: peerId(2),
      message: 'web_api.2 failed on node-2: image not found (exit code 125)',
    });
  });

  it('many tasks of a service making the same change in one command are one event with a count', () => {
    const { machine, window } = recorded(deployed());
    const ids = [1, 2, 3, 4, 5, 6].map((slot) => `api-${slot}`);
    const seq = window.nextSeq;
    applyAll(machine, [
      stamp(
        {
          type: 'task.create',
          tasks: ids.map((id, i) => ({ id, serviceId: 'web_api', slot: i + 1, serviceVersion: 1 })),
        },
        T0 + 20,
      ),
      stamp(
        {
          type: 'task.pending',
          updates: ids.map((taskId) => ({ taskId, message: 'no suitable node (insufficient cpu on 3 nodes)' })),
        },
        T0 + 21,
      ),
      stamp(
        { type: 'task.assign', assignments: ids.map((taskId) => ({ taskId, nodeId: peerId(1), gpus: [] })) },
        T0 + 30,
      ),
      stamp(
        {
          type: 'task.report',
          nodeId: peerId(1),
          reports: ids.map((taskId, i) => ({
            taskId,
            generation: i + 1,
            state: 'running',
            message: '',
            exitCode: null,
            containerId: `c-${taskId}`,
            restarts: 0,
          })),
        },
        T0 + 40,
      ),
    ]);
    const events = all(window).slice(seq - window.firstSeq);
    expect(events.map((e) => [e.action, e.name, e.count, e.message])).toEqual([
      [
        'pending',
        'web_api',
        6,
        '6 tasks of web_api are waiting for a node: no suitable node (insufficient cpu on 3 nodes)',
      ],
      ['running', 'web_api', 6, '6 tasks of web_api are running on node-1'],
    ]);
  });

  it('node down and up, drain, and scale are events', () => {
    const { machine, window } = recorded(running());
    const before = window.nextSeq;
    applyAll(machine, [
      stamp({ type: 'node.setStatus', id: peerId(2), status: 'down' }, T0 + 100),
      stamp({ type: 'node.setStatus', id: peerId(2), status: 'ready' }, T0 + 200),
      stamp({ type: 'node.setAvailability', id: peerId(3), availability: 'drain' }, T0 + 300),
      stamp({ type: 'service.scale', serviceId: 'web_api', replicas: 5 }, T0 + 400),
    ]);
    const events = all(window).slice(before - window.firstSeq);
    expect(events.map((e) => `${e.type} ${e.action} ${e.name}`)).toEqual([
      'node down node-2',
      'task orphaned web_api.2',
      'node up node-2',
      'node drain node-3',
      'service scaled web_api',
    ]);
    expect(events[4]!.message).toBe('service web_api scaled from 2 to 5 replicas');
  });

  it('a preemption names the victim and what it was stopped for', () => {
    const { machine, window } = recorded(running());
    const seq = window.nextSeq;
    applyAll(machine, [reportOf(1, 'web-api-1', 1, 'running', T0 + 40)]);
    applyAll(machine, [
      stamp(
        { type: 'task.preempt', taskIds: ['web-api-1'], by: [{ taskId: 'job-17-0', jobId: '17', priority: 500 }] },
        T0 + 50,
      ),
    ]);
    const preempted = all(window)
      .slice(seq - window.firstSeq)
      .filter((e) => e.action === 'preempted');
    expect(preempted).toEqual([
      expect.objectContaining({
        type: 'task',
        name: 'web_api.1',
        task: 'web-api-1',
        message: expect.stringMatching(/^web_api\.1 preempted by job 17 \(priority 500\)/),
      }),
    ]);
  });

  it('every agent derives the same events from the same log', () => {
    const commands = deployedCommands();
    const a = recorded();
    const b = recorded();
    applyAll(a.machine, commands);
    applyAll(b.machine, commands);
    expect(all(a.window)).toEqual(all(b.window));
    expect(a.errors).toEqual([]);
  });

  it('a restore marks what came before as unknown here', () => {
    const source = deployed();
    const { machine, window } = recorded();
    machine.restore(source.snapshot(), source.appliedIndex);
    expect(window.completeFrom).toBe(source.appliedIndex + 1);
  });
});

/** The commands `deployed()` applies: init, three nodes, the web stack at T0 + 10. */
function deployedCommands() {
  return [init(), register(1), register(2), register(3), deployOf(WEB, T0 + 10)];
}

describe('job events and the metrics counted from them', () => {
  it('a job queued, started (with its time in the queue) and ended, and the cluster counters', () => {
    const machine = new ClusterStateMachine();
    applyAll(machine, [init(), register(1)]);
    const { window } = recorded(machine);
    const registry = new MetricRegistry();
    const metrics = registerClusterMetrics(registry, { view: () => machine.view(), isLeader: () => true });
    machine.observeApplied({ applied: (c) => metrics.applied(c), restored: () => undefined });
    const seq = window.nextSeq;
    applyAll(machine, [
      stamp(jobSubmit(), T0 + 20),
      stamp(jobUpdate('RUNNING', null, 0), T0 + 5_020),
      stamp(jobUpdate('FAILED', 3, 1), T0 + 9_000),
    ]);
    const events = all(window).slice(seq - window.firstSeq);
    // events reach the counters as the agent wires them (observability.ts)
    for (const event of events) metrics.event(event);
    expect(events.map((e) => `${e.type} ${e.action} ${e.name}`)).toEqual([
      'job submitted work',
      'job started work',
      'job ended work',
    ]);
    expect(events[1]).toMatchObject({
      job: '1',
      queuedMs: 5_000,
      message: 'job 1 (work) started after 5.0 s in the queue',
    });
    expect(events[2]).toMatchObject({
      from: 'RUNNING',
      to: 'FAILED',
      exitCode: 3,
      message: 'job 1 (work) ended FAILED: 1 of 1 unit(s) failed (exit code 3)',
    });
    const text = registry.render();
    expect(text).toContain('shoal_jobs_ended_total{state="FAILED"} 1\n');
    expect(text).toContain('shoal_job_queue_wait_seconds_bucket{le="5"} 1\n');
    expect(text).toContain('shoal_job_queue_wait_seconds_bucket{le="1"} 0\n');
  });
});

function jobUpdate(state: JobState, exitCode: number | null, failed: number): CommandInput {
  return {
    type: 'job.update',
    updates: [{ jobId: '1', state, reason: failed > 0 ? '1 of 1 unit(s) failed' : '', exitCode, succeeded: 0, failed }],
  };
}
