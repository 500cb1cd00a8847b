/**
 * The cluster's metrics, rendered by the leader only (every agent would report the same
 * numbers): nodes by state, services' replicas, tasks by state, jobs, the queue wait,
 * placements and preemptions, rollouts by state and autoscaler decisions. Gauges are read from
 * the indexed state at scrape time (task counts incrementally, see task-counts.ts); counters are
 * counted from what every agent applies, so a new leader's counters go on from what it applied
 * as a follower.
 * @module
 */
import type { ClusterEvent } from '../events/types.js';
import type { AppliedCommand } from '../state/cluster-state.js';
import type { IndexedState } from '../state/indexed-state.js';
import { ROLLOUT_STATES } from '../state/rollout.js';
import type { MetricRegistry } from './registry.js';
import { TaskCounts } from './task-counts.js';

/** Queue waits from a tenth of a second to a day. */
export const QUEUE_WAIT_BUCKETS_S: readonly number[] = [
  0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200, 21600, 86400,
];

export interface ClusterMetricsSource {
  readonly view: () => IndexedState;
  readonly isLeader: () => boolean;
}

/** Where the counters are fed: the applied commands and the events derived from them. */
export interface ClusterMetrics {
  applied(change: AppliedCommand): void;
  event(event: ClusterEvent): void;
}

export function registerClusterMetrics(registry: MetricRegistry, source: ClusterMetricsSource): ClusterMetrics {
  const enabled = source.isLeader;
  const nodes = registry.gauge('shoal_cluster_nodes', 'Registered nodes by status and availability.', {
    labelNames: ['status', 'availability'],
    enabled,
  });
  const tasks = registry.gauge('shoal_cluster_tasks', 'Tasks in the state by state (ended ones until collected).', {
    labelNames: ['state'],
    enabled,
  });
  const replicas = (name: string, help: string) =>
    registry.gauge(name, help, { labelNames: ['stack', 'service'], enabled });
  const desired = replicas(
    'shoal_service_replicas_desired',
    'Replicas a service should run (global: one per eligible node).',
  );
  const running = replicas('shoal_service_replicas_running', 'Replicas up (starting or running).');
  const healthy = replicas('shoal_service_replicas_healthy', 'Replicas running and past their healthcheck.');
  const jobs = registry.gauge('shoal_jobs', 'Jobs waiting or running, by state.', { labelNames: ['state'], enabled });
  const ended = registry.counter('shoal_jobs_ended_total', 'Jobs that ended, by final state.', {
    labelNames: ['state'],
    enabled,
  });
  const queueWait = registry.histogram(
    'shoal_job_queue_wait_seconds',
    'Time a job waited in the queue, from when it could start to when it started.',
    QUEUE_WAIT_BUCKETS_S,
    { enabled },
  );
  const placements = registry.counter('shoal_placements_total', 'Tasks placed on a node by the scheduler.', {
    enabled,
  });
  const preemptions = registry.counter(
    'shoal_preemptions_total',
    'Tasks stopped to make room for higher-priority work.',
    {
      enabled,
    },
  );
  const rollouts = registry.counter(
    'shoal_rollout_transitions_total',
    'Rollouts entering a state (updating, paused, rolling_back, completed...).',
    { labelNames: ['state'], enabled },
  );
  const rolloutState = registry.gauge('shoal_services_rollout', 'Services by the state of their last rollout.', {
    labelNames: ['state'],
    enabled,
  });
  const autoscaled = registry.counter('shoal_autoscale_decisions_total', 'Replica changes the autoscaler made.', {
    labelNames: ['direction'],
    enabled,
  });

  const counts = new TaskCounts();
  registry.onCollect(() => {
    for (const metric of [nodes, tasks, desired, running, healthy, jobs, rolloutState]) metric.reset();
    if (!source.isLeader()) return;
    const state = source.view();
    for (const node of Object.values(state.nodes))
      nodes.inc(1, { status: node.status, availability: node.availability });
    counts.update(state.tasks);
    for (const [name, n] of counts.byState) tasks.set(n, { state: name });
    for (const service of Object.values(state.services)) {
      const kind = service.spec.kind;
      if (kind === 'job' || kind === 'cron') continue;
      const labels = { stack: service.stack, service: service.id };
      const seen = counts.byService.get(service.id);
      desired.set(kind === 'global' ? (seen?.live ?? 0) : service.replicas, labels);
      running.set(seen?.running ?? 0, labels);
      healthy.set(seen?.healthy ?? 0, labels);
      if (service.rollout !== undefined) rolloutState.inc(1, { state: service.rollout.state });
    }
    jobs.set(0, { state: 'PENDING' });
    jobs.set(0, { state: 'RUNNING' });
    for (const job of Object.values(state.jobs))
      if (job.state === 'PENDING' || job.state === 'RUNNING') jobs.inc(1, { state: job.state });
  });

  return {
    applied({ command, before, after }) {
      if (command.type !== 'task.assign') return;
      for (const { taskId } of command.assignments) {
        const is = after.tasks.get(taskId);
        if (is !== undefined && is.generation !== before.tasks.get(taskId)?.generation) placements.inc();
      }
    },
    event(event) {
      if (event.type === 'task' && event.action === 'preempted') preemptions.inc();
      if (event.type === 'service' && ROLLOUT_STATES.some((state) => state === event.action))
        rollouts.inc(1, { state: event.action });
      if (event.type === 'service' && event.action === 'autoscaled')
        autoscaled.inc(1, { direction: Number(event.to) > Number(event.from) ? 'up' : 'down' });
      if (event.type === 'job' && event.action === 'ended' && event.to !== undefined) ended.inc(1, { state: event.to });
      if (event.type === 'job' && event.action === 'started' && event.queuedMs !== undefined)
        queueWait.observe(event.queuedMs / 1000);
    },
  };
}
