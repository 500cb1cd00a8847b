/**
 * The node-health controller: turns the leader's heartbeat observations into `node.setStatus`.
 *
 * Heartbeats are not replicated (too chatty for the log), so each leader only knows the ones it
 * received itself. A new leader therefore first collects heartbeats for one grace period before it
 * declares anyone down: without that, every node would look silent at the moment of election.
 * @module
 */
import type { WorkloadCommandInput, WorkloadState } from './workload-types.js';

/** The default: a node silent for more than 5 s is down. */
export const DEFAULT_NODE_GRACE_MS = 5000;

export interface NodeHealthInput {
  readonly state: Pick<WorkloadState, 'nodes'>;
  /** Last heartbeat received by this leader, per node id (leader's clock, ms). */
  readonly lastHeartbeat: ReadonlyMap<string, number>;
  readonly now: number;
  /** Silence longer than this marks a node down. */
  readonly graceMs: number;
  /** When this leader took office (leader's clock, ms). */
  readonly leaderSince: number;
  /** The leader's own node: it is alive by definition (it is running this code). */
  readonly selfId?: string;
}

/**
 * Status changes to propose, one command per node, in node id order.
 * @example
 * reconcileNodeHealth({ state, lastHeartbeat, now: 20_000, graceMs: 5000, leaderSince: 0 })
 * // [{ type: 'node.setStatus', id: 'n2', status: 'down' }]
 */
export function reconcileNodeHealth(
  input: NodeHealthInput,
): Extract<WorkloadCommandInput, { type: 'node.setStatus' }>[] {
  if (!(input.graceMs > 0))
    throw new RangeError(`Cannot check node health with graceMs=${input.graceMs}: it must be > 0`);
  const out: Extract<WorkloadCommandInput, { type: 'node.setStatus' }>[] = [];
  const collecting = input.now < input.leaderSince + input.graceMs;
  for (const id of Object.keys(input.state.nodes).sort()) {
    const node = input.state.nodes[id]!;
    const last = input.lastHeartbeat.get(id);
    const alive = id === input.selfId || (last !== undefined && input.now - last <= input.graceMs);
    if (node.status === 'ready' && !alive && !collecting) out.push({ type: 'node.setStatus', id, status: 'down' });
    else if (node.status === 'down' && alive) out.push({ type: 'node.setStatus', id, status: 'ready' });
  }
  return out;
}
