/**
 * Stack and service events: deploys (what each one created, updated or removed), `stack rm`,
 * `service scale`.
 * @module
 */
import type { AppliedCommand } from '../../state/cluster-state.js';
import type { EventDraft } from '../types.js';
import { plural } from './names.js';

export function stackEvents({ command, before, after }: AppliedCommand): EventDraft[] {
  if (command.type === 'stack.deploy') {
    const stack = command.name;
    const ids = new Set([...(before.stacks[stack]?.services ?? []), ...(after.stacks[stack]?.services ?? [])]);
    const services: EventDraft[] = [];
    const counts = { created: 0, updated: 0, removed: 0 };
    for (const id of [...ids].sort()) {
      const was = before.services[id];
      const is = after.services[id];
      const action =
        was === undefined ? 'created' : is === undefined ? 'removed' : was.specHash !== is.specHash ? 'updated' : null;
      if (action === null) continue;
      counts[action]++;
      const version = is === undefined ? '' : ` (version ${is.version})`;
      services.push({
        type: 'service',
        action,
        name: id,
        stack,
        service: id,
        message: `service ${id} ${action}${version}`,
      });
    }
    const change =
      services.length === 0
        ? 'no change'
        : `${counts.created} created, ${counts.updated} updated, ${counts.removed} removed`;
    const head: EventDraft = {
      type: 'stack',
      action: 'deployed',
      name: stack,
      stack,
      message: `stack ${stack} deployed: ${change}`,
    };
    return [head, ...services];
  }
  if (command.type === 'stack.remove') {
    const services = before.stacks[command.name]?.services.length ?? 0;
    return [
      {
        type: 'stack',
        action: 'removed',
        name: command.name,
        stack: command.name,
        message: `stack ${command.name} removed (${plural(services, 'service')}; their tasks are stopping)`,
      },
    ];
  }
  return [];
}

export function serviceEvents({ command, before, after }: AppliedCommand): EventDraft[] {
  if (command.type !== 'service.scale') return [];
  const was = before.services[command.serviceId];
  const is = after.services[command.serviceId];
  if (is === undefined || was?.replicas === is.replicas) return [];
  return [
    {
      type: 'service',
      action: 'scaled',
      name: is.id,
      stack: is.stack,
      service: is.id,
      from: String(was?.replicas ?? 0),
      to: String(is.replicas),
      message: `service ${is.id} scaled from ${was?.replicas ?? 0} to ${plural(is.replicas, 'replica')}`,
    },
  ];
}
