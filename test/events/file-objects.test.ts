import { fileObjectEvents } from '../../src/events/derive/file-objects.js';
import { emptyIndexedState, type Command } from '../../src/state/index.js';

const state = emptyIndexedState();
const derive = (command: Command) => fileObjectEvents({ index: 7, command, before: state, after: state });
const SEALED = 'c2VhbGVkIGJ5dGVz';

describe('secret and config events', () => {
  it('a created secret is named with its size and stack, never its data', () => {
    const events = derive({
      v: 1,
      at: 1,
      type: 'secret.create',
      name: 'web_db_pw',
      data: SEALED,
      digest: 'ab'.repeat(32),
      sizeBytes: 12,
      stack: 'web',
      keyId: 'cd'.repeat(16),
    });
    expect(events).toEqual([
      {
        type: 'secret',
        action: 'created',
        name: 'web_db_pw',
        stack: 'web',
        message: 'secret web_db_pw created (12 bytes) for stack web',
      },
    ]);
    expect(JSON.stringify(events)).not.toContain(SEALED);
  });

  it('a config made with the CLI, and removals', () => {
    const created = derive({
      v: 1,
      at: 1,
      type: 'config.create',
      name: 'nginx_conf',
      data: SEALED,
      digest: 'ab'.repeat(32),
      sizeBytes: 3,
      stack: null,
    });
    expect(created.map((e) => e.message)).toEqual(['config nginx_conf created (3 bytes)']);
    expect(derive({ v: 1, at: 1, type: 'secret.remove', name: 'old' })).toEqual([
      { type: 'secret', action: 'removed', name: 'old', message: 'secret old removed' },
    ]);
    expect(derive({ v: 1, at: 1, type: 'node.remove', id: 'x'.repeat(20) })).toEqual([]);
  });
});
