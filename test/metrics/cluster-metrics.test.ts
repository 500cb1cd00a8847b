/**
 * The leader's cluster metrics from the indexed state, at 10,000 tasks. The scrape time is
 * printed (no timed assertion): the first scrape counts every task once, later ones only what
 * changed since (task-counts.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { registerClusterMetrics } from '../../src/metrics/cluster-metrics.js';
import { registerNodeMetrics } from '../../src/metrics/node-metrics.js';
import { MetricRegistry } from '../../src/metrics/registry.js';
import { ClusterStateMachine } from '../../src/state/index.js';
import { T0, peerId } from '../state/helpers.js';
import { applyAll, deployed, reportOf, stamp } from '../state/workload-helpers.js';

const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
const TASKS = 10_000;

/** `deployed()` with web_api scaled to 10,000 replicas, all placed round-robin on 3 nodes. */
function bigCluster(): ClusterStateMachine {
  const machine = deployed();
  const ids = Array.from({ length: TASKS }, (_, i) => `t${i + 1}`);
  applyAll(machine, [
    stamp({ type: 'service.scale', serviceId: 'web_api', replicas: TASKS }, T0 + 15),
    stamp(
      {
        type: 'task.create',
        tasks: ids.map((id, i) => ({ id, serviceId: 'web_api', slot: i + 1, serviceVersion: 1 })),
      },
      T0 + 20,
    ),
    stamp(
      { type: 'task.assign', assignments: ids.map((taskId, i) => ({ taskId, nodeId: peerId((i % 3) + 1), gpus: [] })) },
      T0 + 30,
    ),
  ]);
  return machine;
}

function timed<T>(work: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = work();
  return { value, ms: performance.now() - started };
}

describe('cluster metrics at 10,000 tasks', () => {
  it('renders counts read from the indexed state, and logs what a scrape costs', () => {
    const machine = bigCluster();
    const registry = new MetricRegistry();
    const cluster = registerClusterMetrics(registry, { view: () => machine.view(), isLeader: () => true });
    machine.observeApplied({ applied: (c) => cluster.applied(c), restored: () => undefined });
    registerNodeMetrics(registry, { selfId: peerId(1), view: () => machine.view() });

    const first = timed(() => registry.render());
    expect(first.value).toContain('shoal_cluster_tasks{state="assigned"} 10000\n');
    expect(first.value).toContain('shoal_service_replicas_desired{stack="web",service="web_api"} 10000\n');
    expect(first.value).toContain('shoal_service_replicas_running{stack="web",service="web_api"} 0\n');
    expect(first.value).toContain('shoal_node_tasks{state="assigned"} 3334\n');

    // one task runs: the next scrape counts that change, not the 10,000 tasks
    applyAll(machine, [reportOf(1, 't1', 1, 'running', T0 + 40)]);
    const again = timed(() => registry.render());
    expect(again.value).toContain('shoal_cluster_tasks{state="running"} 1\n');
    expect(again.value).toContain('shoal_cluster_tasks{state="assigned"} 9999\n');
    expect(again.value).toContain('shoal_service_replicas_healthy{stack="web",service="web_api"} 1\n');
    expect(again.value).toContain('shoal_node_tasks{state="running"} 1\n');
    expect(again.value).toContain('shoal_node_tasks{state="assigned"} 3333\n');
    expect(again.value).toContain('shoal_placements_total 0\n'); // placed before the metrics observed
    const steady = timed(() => registry.render());
    console.log(
      `/metrics at ${TASKS} tasks: first scrape ${first.ms.toFixed(1)} ms, after one change ${again.ms.toFixed(1)} ms, ` +
        `unchanged ${steady.ms.toFixed(1)} ms (${first.value.length} bytes)`,
    );
    if (PROMTOOL)
      expect(execFileSync(PROMTOOL, ['check', 'metrics'], { input: again.value, encoding: 'utf8' })).toBe('');
  });

  it('renders no cluster series on a follower', () => {
    const machine = deployed();
    const registry = new MetricRegistry();
    registerClusterMetrics(registry, { view: () => machine.view(), isLeader: () => false });
    expect(registry.render()).not.toContain('shoal_cluster_');
  });
});

describe('rollout and autoscaler metrics', () => {
  it('counts rollout transitions and autoscaler decisions from their events', () => {
    const machine = deployed();
    const registry = new MetricRegistry();
    const cluster = registerClusterMetrics(registry, { view: () => machine.view(), isLeader: () => true });
    const event = (action: string, from = '', to = '') =>
      cluster.event({ index: 9, sub: 0, time: T0, type: 'service', action, name: 'web_api', message: '', from, to });
    event('updating');
    event('paused');
    event('updating');
    event('autoscaled', '2', '5');
    event('autoscaled', '5', '4');
    event('scaled', '4', '1'); // a person's scale is not the autoscaler's
    const text = registry.render();
    expect(text).toContain('shoal_rollout_transitions_total{state="updating"} 2\n');
    expect(text).toContain('shoal_rollout_transitions_total{state="paused"} 1\n');
    expect(text).toContain('shoal_autoscale_decisions_total{direction="up"} 1\n');
    expect(text).toContain('shoal_autoscale_decisions_total{direction="down"} 1\n');
    if (PROMTOOL) expect(execFileSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' })).toBe('');
  });
});
