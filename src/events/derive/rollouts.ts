/**
 * Rollout events (issue 15): a service's rollout changing state (started, paused with its
 * reason, rolling back, awaiting promotion, completed), from `service.update`, `service.rollback`,
 * `service.promote`, the controller's `service.rollout`, and deploys that start one. Progress
 * within a state (one more task updated) is not an event: `service ls` shows it.
 * @module
 */
import type { AppliedCommand } from '../../state/cluster-state.js';
import type { RolloutStatus } from '../../state/rollout.js';
import type { EventDraft } from '../types.js';

const ROLLOUT_COMMANDS = new Set(['service.update', 'service.rollback', 'service.promote', 'service.rollout']);

export function rolloutEvents({ command, before, after }: AppliedCommand): EventDraft[] {
  let ids: readonly string[];
  if (ROLLOUT_COMMANDS.has(command.type) && 'serviceId' in command) ids = [command.serviceId];
  else if (command.type === 'stack.deploy') ids = after.stacks[command.name]?.services ?? [];
  else return [];
  const out: EventDraft[] = [];
  for (const id of ids) {
    const service = after.services[id];
    const now = service?.rollout;
    if (service === undefined || now === undefined) continue;
    const was = before.services[id]?.rollout;
    if (was !== undefined && sameStep(was, now)) continue;
    // A service's first version has nothing to roll out from: its creation is the event (a first
    // version that fails still pauses, and that is one).
    if (now.fromVersion === 0 && (now.state === 'updating' || now.state === 'completed')) continue;
    out.push({
      type: 'service',
      action: now.state,
      name: id,
      stack: service.stack,
      service: id,
      from: String(now.fromVersion),
      to: String(now.toVersion),
      message: describe(id, now),
    });
  }
  return out;
}

function sameStep(a: RolloutStatus, b: RolloutStatus): boolean {
  return a.state === b.state && a.toVersion === b.toVersion && a.reason === b.reason && a.promoted === b.promoted;
}

function describe(id: string, r: RolloutStatus): string {
  const versions = `version ${r.fromVersion} → ${r.toVersion}`;
  const counts = r.total === 0 ? '' : `, ${r.updated}/${r.total} updated${r.failed > 0 ? `, ${r.failed} failed` : ''}`;
  const why = r.reason === '' ? '' : `: ${r.reason}`;
  const words: Record<RolloutStatus['state'], string> = {
    updating: 'rollout started',
    awaiting_promotion: 'canaries up, awaiting promotion',
    paused: 'rollout paused',
    rolling_back: 'rolling back',
    rollback_paused: 'rollback paused',
    completed: 'rollout completed',
    rolled_back: 'rolled back',
  };
  return `service ${id} ${words[r.state]} (${versions}${counts})${why}`;
}
