/**
 * Self-fencing: a node cut off from the cluster's quorum stops the tasks of at-most-one services
 * itself, before the leader's node grace ends and their replacements start elsewhere, so that
 * such a service never runs twice (issue 18 item 10; Swarm and Kubernetes run both until the
 * old node comes back; Nomad offers `disconnect.stop_on_client_after`).
 *
 * Timing (docs/ARCHITECTURE.md, "Failure handling"). The node probes the quorum every
 * {@link QUORUM_PROBE_MS} with a linearizable read that times out after {@link PROBE_TIMEOUT_MS}:
 * a read that succeeds at t_ok was received by the leader at t_ok - PROBE_TIMEOUT_MS or later.
 * The leader places a replacement no earlier than the grace G after it last heard the node, so
 * not before t_ok - PROBE_TIMEOUT_MS + G. The node stops its tasks once F has passed since t_ok,
 * noticed within a probe period and given at most {@link FENCE_STOP_MS} to stop, so they are
 * gone by t_ok + F + QUORUM_PROBE_MS + FENCE_STOP_MS. With F = G - {@link FENCE_MARGIN_MS}
 * (3 s), that is 0.5 s before the earliest replacement. Clocks are not compared across nodes:
 * both sides measure intervals on their own monotonic clock.
 * @module
 */
import type { ServiceSpec } from '../stack/index.js';

export const QUORUM_PROBE_MS = 500;
export const PROBE_TIMEOUT_MS = 1_000;
/** A fenced task gets at most this long between its stop signal and SIGKILL. */
export const FENCE_STOP_MS = 1_000;
/** PROBE_TIMEOUT_MS + QUORUM_PROBE_MS + FENCE_STOP_MS + 0.5 s to spare. */
export const FENCE_MARGIN_MS = PROBE_TIMEOUT_MS + QUORUM_PROBE_MS + FENCE_STOP_MS + 500;
/** Never fence faster than this: a grace this short cannot be raced safely anyway (it is refused below 1 s). */
export const MIN_FENCE_AFTER_MS = 1_000;

/** How long without the quorum before the node stops its at-most-one tasks, for node grace `graceMs`. */
export function fenceAfterMs(graceMs: number): number {
  return Math.max(MIN_FENCE_AFTER_MS, graceMs - FENCE_MARGIN_MS);
}

/**
 * Whether the tasks of `spec` stop on a node cut off from the quorum: as `x-shoal.on_disconnect`
 * says, else for replicated services with a named volume (their data must not have two writers).
 */
export function stopsOnDisconnect(spec: Pick<ServiceSpec, 'kind' | 'volumes' | 'scheduling'>): boolean {
  const chosen = spec.scheduling.onDisconnect;
  if (chosen !== undefined) return chosen === 'stop';
  return spec.kind === 'replicated' && spec.volumes.some((v) => v.type === 'volume' && v.source !== null);
}
