/**
 * Secret and config events: created and removed. Only names and sizes: a secret's value never
 * reaches an event (the log holds it sealed, and the event says nothing of it either).
 * @module
 */
import type { AppliedCommand } from '../../state/cluster-state.js';
import type { EventDraft } from '../types.js';

export function fileObjectEvents({ command }: AppliedCommand): EventDraft[] {
  switch (command.type) {
    case 'secret.create':
    case 'config.create': {
      const type = command.type === 'secret.create' ? 'secret' : 'config';
      const owner = command.stack === null ? '' : ` for stack ${command.stack}`;
      return [
        {
          type,
          action: 'created',
          name: command.name,
          ...(command.stack === null ? {} : { stack: command.stack }),
          message: `${type} ${command.name} created (${command.sizeBytes} bytes)${owner}`,
        },
      ];
    }
    case 'secret.remove':
    case 'config.remove': {
      const type = command.type === 'secret.remove' ? 'secret' : 'config';
      return [{ type, action: 'removed', name: command.name, message: `${type} ${command.name} removed` }];
    }
    default:
      return [];
  }
}
