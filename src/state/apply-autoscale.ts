/**
 * Applying `service.autoscale` (autoscale-commands.ts). Same rules as the other apply files:
 * pure, time from `at`, refusals decided before anything is built.
 * @module
 * @private
 */
import type { ApplyOutcome } from './apply.js';
import type { ServiceAutoscaleCommand } from './autoscale-commands.js';
import type { IndexedState } from './indexed-state.js';
import { RecordEdit } from './record-edit.js';

export function applyAutoscale(state: IndexedState, command: ServiceAutoscaleCommand): ApplyOutcome {
  const id = command.serviceId;
  const service = Object.hasOwn(state.services, id) ? state.services[id] : undefined;
  if (service === undefined) return refuse(`service ${id} does not exist (removed since the decision)`);
  const autoscale = service.spec.kind === 'replicated' ? service.spec.autoscale : null;
  if (!autoscale) return refuse(`service ${id} is not autoscaled (x-shoal.autoscale): the decision is stale`);
  if (service.replicas !== command.from)
    return refuse(
      `service ${id} has ${service.replicas} replicas, not ${command.from}: it was scaled meanwhile, the next decision starts from there`,
    );
  if (command.replicas < autoscale.min || command.replicas > autoscale.max)
    return refuse(`${command.replicas} replicas is outside min..max (${autoscale.min}..${autoscale.max}) of ${id}`);
  const services = new RecordEdit(state.services);
  services.set(id, {
    ...service,
    replicas: command.replicas,
    updatedAt: command.at,
    autoscale: {
      at: command.at,
      from: command.from,
      to: command.replicas,
      reason: command.reason,
      metrics: command.metrics,
    },
  });
  return { ok: true, state: { ...state, services: services.result() } };
}

function refuse(reason: string): ApplyOutcome {
  return { ok: false, error: `service.autoscale: ${reason}` };
}
