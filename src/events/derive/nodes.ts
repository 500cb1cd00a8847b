/**
 * Node and cluster events: a node joined, went down, came back, was drained or removed; the
 * cluster was created or its join token rotated.
 * @module
 */
import type { AppliedCommand } from '../../state/cluster-state.js';
import type { EventDraft } from '../types.js';
import { changedKeys } from './names.js';

const GIB = 1024 ** 3;

export function clusterEvents({ command, after }: AppliedCommand): EventDraft[] {
  if (command.type === 'cluster.init') {
    return [
      {
        type: 'cluster',
        action: 'created',
        name: command.name,
        message: `cluster ${command.name} created (${after.cluster?.id ?? command.clusterId})`,
      },
    ];
  }
  if (command.type === 'token.rotate') {
    const name = after.cluster?.name ?? '';
    return [
      {
        type: 'cluster',
        action: 'token-rotated',
        name,
        message: 'the join token was rotated: older tokens no longer work',
      },
    ];
  }
  return [];
}

export function nodeEvents({ before, after }: AppliedCommand): EventDraft[] {
  const out: EventDraft[] = [];
  for (const id of changedKeys(before.nodes, after.nodes)) {
    const was = before.nodes[id];
    const is = after.nodes[id];
    if (is === undefined) {
      const name = was?.hostname ?? id.slice(0, 12);
      out.push({
        type: 'node',
        action: 'removed',
        name,
        node: id,
        message: `node ${name} was removed from the cluster`,
      });
      continue;
    }
    const name = is.hostname;
    if (was === undefined) {
      const { cpus, memoryBytes, gpus } = is.resources;
      const size = `${cpus} CPUs, ${(memoryBytes / GIB).toFixed(1)} GiB${gpus.length > 0 ? `, ${gpus.length} GPUs` : ''}`;
      out.push({ type: 'node', action: 'joined', name, node: id, message: `node ${name} joined (${size})` });
      continue;
    }
    if (was.status !== is.status) {
      const message =
        is.status === 'down'
          ? `node ${name} is down: the leader did not hear from it within the grace; its replicas are placed elsewhere`
          : `node ${name} is back`;
      out.push({
        type: 'node',
        action: is.status === 'down' ? 'down' : 'up',
        name,
        node: id,
        from: was.status,
        to: is.status,
        message,
      });
    }
    if (was.availability !== is.availability) {
      out.push({
        type: 'node',
        action: is.availability,
        name,
        node: id,
        from: was.availability,
        to: is.availability,
        message: `node ${name} set to ${is.availability} (was ${was.availability})`,
      });
    }
  }
  return out;
}
