/** A node's message about itself (node.update `message`): the service ports it cannot listen on. */
import { ClusterStateMachine, decodeState, validateCommand } from '../../src/state/index.js';
import { T0, init, peerId, register } from './helpers.js';
import { applyAll, stamp } from './workload-helpers.js';

describe('node.update message', () => {
  it('sets the message, keeps it in the snapshot, and clears it with an empty one', () => {
    const machine = new ClusterStateMachine();
    const said = 'cannot listen on 0.0.0.0:8080 for service shop_web: listen EADDRINUSE';
    applyAll(machine, [init(), register(1), stamp({ type: 'node.update', id: peerId(1), message: said }, T0 + 10)]);
    expect(machine.node(peerId(1))!.message).toBe(said);
    const restored = new ClusterStateMachine();
    restored.restore(machine.snapshot(), machine.appliedIndex);
    expect(decodeState(restored.snapshot()).state.nodes[peerId(1)]!.message).toBe(said);
    applyAll(machine, [stamp({ type: 'node.update', id: peerId(1), message: '' }, T0 + 20)]);
    expect(machine.node(peerId(1))).not.toHaveProperty('message');
  });

  it('refuses a message over 1,000 characters, naming the field', () => {
    expect(() =>
      validateCommand({ v: 1, type: 'node.update', id: peerId(1), message: 'x'.repeat(1001), at: T0 }),
    ).toThrow(/node\.update: message: /);
  });
});
