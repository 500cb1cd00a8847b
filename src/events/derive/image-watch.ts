/**
 * Image watch events (issue 15, `x-shoal.image_update`), from the log like every event:
 * - `image_update`: the leader's watch heard a watched tag move and updated the service to the
 *   new digest (a `service.update` carrying the watch's reason); the rollout that follows is told
 *   by the rollout events, whose `updating` carries the same reason.
 * - `image_bad`: a digest became bad for a service that sets `x-shoal.image_update` (the version
 *   running it rolled back, or was replaced before it became stable): the watch does not try it
 *   again until the tag moves on.
 * Skips and registry errors are decisions of the leader's memory, not in the log: they are its
 * log lines (`component: image-watch`).
 * @module
 */
import { badDigests } from '../../controllers/image-watch.js';
import type { AppliedCommand } from '../../state/cluster-state.js';
import type { ServiceRecord } from '../../state/workloads.js';
import type { EventDraft } from '../types.js';

const SERVICE_COMMANDS = new Set(['service.update', 'service.rollback', 'service.rollout']);

export function imageWatchEvents({ command, before, after }: AppliedCommand): EventDraft[] {
  const out: EventDraft[] = [];
  if (command.type === 'service.update' && command.reason !== undefined) {
    const service = after.services[command.serviceId];
    if (service !== undefined && service.version !== before.services[command.serviceId]?.version)
      out.push({
        ...about(service),
        action: 'image_update',
        message: `service ${service.id} updated to ${service.spec.image}: ${command.reason}`,
      });
  }
  let ids: readonly string[];
  if (SERVICE_COMMANDS.has(command.type) && 'serviceId' in command) ids = [command.serviceId];
  else if (command.type === 'stack.deploy') ids = after.stacks[command.name]?.services ?? [];
  else return out;
  for (const id of ids) {
    const service = after.services[id];
    const previous = before.services[id];
    if (service === undefined || previous === undefined || !service.spec.imageUpdate) continue;
    if (service.history === previous.history) continue; // only a new version or a stable mark changes it
    const was = badDigests(previous);
    for (const digest of badDigests(service)) {
      if (was.has(digest)) continue;
      out.push({
        ...about(service),
        action: 'image_bad',
        message: `service ${id}: ${digest} failed its rollout; the image watch skips it until the tag moves on`,
      });
    }
  }
  return out;
}

function about(service: ServiceRecord): Pick<EventDraft, 'type' | 'name' | 'stack' | 'service'> {
  return { type: 'service', name: service.id, stack: service.stack, service: service.id };
}
