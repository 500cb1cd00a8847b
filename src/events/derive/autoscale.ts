/**
 * Autoscaler decisions (issue 16): each `service.autoscale` the leader's autoscaler committed is
 * an event with its inputs ("cpu 92 % of 70 % over 3 tasks → 4"). A decision refused by apply
 * (a manual scale got there first) changed nothing and is no event.
 * @module
 */
import type { AppliedCommand } from '../../state/cluster-state.js';
import type { EventDraft } from '../types.js';

export function autoscaleEvents({ command, before, after }: AppliedCommand): EventDraft[] {
  if (command.type !== 'service.autoscale') return [];
  const service = after.services[command.serviceId];
  const was = before.services[command.serviceId];
  if (service === undefined || was === undefined || was.replicas === service.replicas) return [];
  return [
    {
      type: 'service',
      action: 'autoscaled',
      name: service.id,
      stack: service.stack,
      service: service.id,
      from: String(was.replicas),
      to: String(service.replicas),
      message: `service ${service.id} autoscaled from ${was.replicas} to ${service.replicas}: ${command.reason}`,
    },
  ];
}
