/**
 * The cron step of a controller pass: maps the replicated state onto the pure cron controller
 * (cron/reconcile.ts) and its decisions onto commands. `job.start` and `cron.skip` carry the
 * schedule time, and apply ignores a time at or before the service's mark, so a decision proposed
 * twice (a leader change mid-pass) starts one run.
 * @module
 */
import { isJobEnded } from '../state/jobs.js';
import { reconcileCron, type CronRun, type CronService } from './cron/index.js';
import type { WorkloadCommandInput, WorkloadState } from './workload-types.js';

export function cronCommands(state: WorkloadState, now: number): WorkloadCommandInput[] {
  const services: CronService[] = [];
  for (const id of Object.keys(state.services).sort()) {
    const s = state.services[id]!;
    if (s.spec.kind !== 'cron' || s.spec.cron === null) continue;
    services.push({
      serviceId: id,
      cron: s.spec.cron,
      createdAt: s.createdAt,
      lastScheduledAt: state.cronMarks?.[id] ?? null,
    });
  }
  if (services.length === 0) return [];
  const runs: CronRun[] = [];
  for (const job of Object.values(state.jobs ?? {})) {
    if (job.scheduledAt === null) continue;
    runs.push({
      jobId: job.id,
      serviceId: job.serviceId,
      scheduledAt: job.scheduledAt,
      active: !isJobEnded(job.state),
    });
  }
  const decision = reconcileCron({ now, services, runs });
  const out: WorkloadCommandInput[] = [];
  for (const c of decision.cancel) out.push({ type: 'job.cancel', jobIds: [c.jobId], reason: c.reason });
  for (const s of decision.start) out.push({ type: 'job.start', serviceId: s.serviceId, scheduledAt: s.scheduledAt });
  for (const s of decision.skip) out.push({ type: 'cron.skip', serviceId: s.serviceId, scheduledAt: s.scheduledAt });
  return out;
}
