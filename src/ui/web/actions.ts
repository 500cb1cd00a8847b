/**
 * The actions the UI offers, each confirmed first, each one admin API call: what the CLI's
 * `service scale`, `node drain|pause|activate`, `job cancel` and `service rollback` send. A refusal
 * is shown as the agent words it.
 * @module
 */
import type { Api } from './api.js';
import { ApiFailure } from './api.js';
import { confirmAction, notify } from './dialogs.js';

/** The routes the actions call. */
export const ACTION_PATHS = {
  scale: (service: string) => `/v1/services/${encodeURIComponent(service)}/scale`,
  availability: (node: string) => `/v1/nodes/${encodeURIComponent(node)}/availability`,
  cancelJobs: '/v1/jobs/cancel',
  /**
   * Roll a service back to its previous version: the rollouts' route (issue 15, `shoal service
   * rollback`, src/api/rollout-routes.ts). An agent without it answers 404, and the UI says so.
   */
  rollback: (service: string) => `/v1/services/${encodeURIComponent(service)}/rollback`,
} as const;

/** MAX_REPLICAS of the workload routes: the agent refuses more. */
const MAX_REPLICAS = 100_000;

async function run(what: string, call: () => Promise<unknown>, done: string): Promise<boolean> {
  try {
    const result = await call();
    const warnings = (result as { warnings?: readonly string[] } | null)?.warnings ?? [];
    notify([done, ...warnings].join(' · '));
    return true;
  } catch (error) {
    notify(`${what} failed: ${(error as Error).message}`, 'error');
    return false;
  }
}

/** Ask for a replica count, confirm, scale. Resolves true when the agent took it. */
export async function scaleService(api: Api, service: { id: string; name: string; desired: number }): Promise<boolean> {
  const replicas = await confirmAction({
    title: `Scale ${service.id}`,
    message: `It runs ${service.desired} replica${service.desired === 1 ? '' : 's'} now. New replicas are placed at once; extra ones are stopped.`,
    confirm: 'Scale',
    input: { label: 'Replicas', value: service.desired, min: 0, max: MAX_REPLICAS },
  });
  if (replicas === null) return false;
  return run(
    `Scaling ${service.id}`,
    () => api.post(ACTION_PATHS.scale(service.id), { replicas }),
    `${service.id} scaled to ${replicas}`,
  );
}

/** Confirm, then drain, pause or activate a node. */
export async function setAvailability(
  api: Api,
  node: { id: string; hostname: string },
  availability: 'active' | 'drain' | 'pause',
): Promise<boolean> {
  const what = {
    drain: 'Its tasks are stopped and placed on other nodes, and nothing new is placed on it.',
    pause: 'Its tasks keep running, and nothing new is placed on it.',
    active: 'New tasks may be placed on it again.',
  }[availability];
  const verb = { drain: 'Drain', pause: 'Pause', active: 'Activate' }[availability];
  const ok = await confirmAction({
    title: `${verb} ${node.hostname}`,
    message: what,
    confirm: verb,
    danger: availability === 'drain',
  });
  if (ok === null) return false;
  return run(
    `${verb} ${node.hostname}`,
    () => api.post(ACTION_PATHS.availability(node.id), { availability }),
    `${node.hostname} is now ${availability}`,
  );
}

/** Confirm, then cancel a job (all its units). */
export async function cancelJob(api: Api, job: { jobId: string; name: string }): Promise<boolean> {
  const ok = await confirmAction({
    title: `Cancel job ${job.jobId}`,
    message: `${job.name}: its running units are stopped and its pending ones never start.`,
    confirm: 'Cancel job',
    danger: true,
  });
  if (ok === null) return false;
  return run(
    `Cancelling job ${job.jobId}`,
    () => api.post(ACTION_PATHS.cancelJobs, { jobIds: [job.jobId] }),
    `job ${job.jobId} cancelled`,
  );
}

/** Confirm, then roll a service back to its previous version (needs the rollouts' route). */
export async function rollbackService(api: Api, service: { id: string; version: number }): Promise<boolean> {
  const ok = await confirmAction({
    title: `Roll back ${service.id}`,
    message: `It is at version ${service.version}. Its tasks are replaced with those of the previous version.`,
    confirm: 'Roll back',
    danger: true,
  });
  if (ok === null) return false;
  try {
    await api.post(ACTION_PATHS.rollback(service.id), {});
    notify(`${service.id} is rolling back`);
    return true;
  } catch (error) {
    const missing = error instanceof ApiFailure && error.status === 404 && /no such endpoint/.test(error.message);
    notify(
      missing
        ? 'Roll back is not available on this agent: it has no rollouts (issue 15); upgrade it.'
        : `Rolling back ${service.id} failed: ${(error as Error).message}`,
      'error',
    );
    return false;
  }
}
