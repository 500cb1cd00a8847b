import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { LATENCY_BUCKETS_S, MetricRegistry } from '../../src/metrics/registry.js';

const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));

function sampleRegistry(): MetricRegistry {
  const registry = new MetricRegistry();
  registry.counter('shoal_raft_leader_changes_total', 'Times this node saw the leader change.').inc(3);
  const tasks = registry.gauge('shoal_tasks', 'Tasks by state.', { labelNames: ['state'] });
  tasks.set(2, { state: 'running' });
  tasks.set(1, { state: 'pending' });
  const fsync = registry.histogram('shoal_raft_fsync_seconds', 'WAL fsync latency.', LATENCY_BUCKETS_S);
  for (const s of [0.0002, 0.003, 0.003, 12]) fsync.observe(s);
  registry.gauge('shoal_service_replicas_desired', 'Desired replicas.', { labelNames: ['service'] }).set(3, {
    service: 'we"ird\\name\n',
  });
  return registry;
}

describe('MetricRegistry', () => {
  it('renders HELP, TYPE and samples in the text format', () => {
    const text = sampleRegistry().render();
    expect(text).toContain('# TYPE shoal_raft_leader_changes_total counter\nshoal_raft_leader_changes_total 3\n');
    expect(text).toContain('shoal_tasks{state="running"} 2\n');
    expect(text).toContain('shoal_service_replicas_desired{service="we\\"ird\\\\name\\n"} 3\n');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('makes histogram buckets cumulative, with +Inf, sum and count', () => {
    const text = sampleRegistry().render();
    expect(text).toContain('shoal_raft_fsync_seconds_bucket{le="0.00025"} 1\n');
    expect(text).toContain('shoal_raft_fsync_seconds_bucket{le="0.005"} 3\n');
    expect(text).toContain('shoal_raft_fsync_seconds_bucket{le="10"} 3\n');
    expect(text).toContain('shoal_raft_fsync_seconds_bucket{le="+Inf"} 4\n');
    expect(text).toContain('shoal_raft_fsync_seconds_count 4\n');
    expect(text).toMatch(/shoal_raft_fsync_seconds_sum 12\.006\d*\n/);
  });

  it('bounds the series of a metric and counts what it dropped', () => {
    const registry = new MetricRegistry();
    const g = registry.gauge('shoal_x', 'x', { labelNames: ['id'], maxSeries: 2 });
    for (const id of ['a', 'b', 'c', 'd']) g.set(1, { id });
    const text = registry.render();
    expect(text).not.toContain('id="c"');
    expect(text).toContain('shoal_metrics_series_dropped_total 2\n');
  });

  it('refuses bad names, labels, and counters going down', () => {
    const registry = new MetricRegistry();
    expect(() => registry.gauge('shoal-bad', 'x')).toThrow(/invalid metric name/);
    expect(() => registry.gauge('shoal_ok', 'x', { labelNames: ['__reserved'] })).toThrow(/invalid label/);
    const c = registry.counter('shoal_c_total', 'c', { labelNames: ['a'] });
    expect(() => c.inc(-1, { a: 'x' })).toThrow(/only goes up/);
    expect(() => c.inc(1, { b: 'x' })).toThrow(/takes the labels a/);
    expect(() => registry.counter('shoal_c_total', 'again')).toThrow(/registered twice/);
  });

  it('runs collectors before rendering', () => {
    const registry = new MetricRegistry();
    const g = registry.gauge('shoal_applied_index', 'Applied index.');
    let index = 0;
    registry.onCollect(() => g.set(++index));
    registry.render();
    expect(registry.render()).toContain('shoal_applied_index 2\n');
  });

  (PROMTOOL ? it : it.skip)('passes promtool check metrics', () => {
    // promtool reads the exposition on stdin and exits non-zero on format or naming problems.
    const out = execFileSync(PROMTOOL ?? 'promtool', ['check', 'metrics'], {
      input: sampleRegistry().render(),
      encoding: 'utf8',
    });
    expect(out).toBe('');
  });
});
