/** VipAllocator: the leader gives services restored without an address theirs, once. */
import { pino } from 'pino';
import { VipAllocator } from '../../src/agent/mesh-vips.js';
import { ClusterStateMachine, encodeState, type CommandInput, type ServiceRecord } from '../../src/state/index.js';
import { T0 } from '../state/helpers.js';
import { applyNext, deployed, stamp } from '../state/workload-helpers.js';

/** A machine restored from a snapshot whose services have no VIP (taken before VIPs existed). */
function restoredWithoutVips(): ClusterStateMachine {
  const original = deployed();
  const state = original.state();
  const services: Record<string, ServiceRecord> = {};
  for (const [id, { vip: _vip, ...rest }] of Object.entries(state.services)) services[id] = rest;
  const machine = new ClusterStateMachine();
  machine.restore(encodeState({ ...state, services }, original.appliedIndex), original.appliedIndex);
  return machine;
}

describe('VipAllocator', () => {
  it('proposes service.vips once while the leader, and nothing once every service has an address', async () => {
    const machine = restoredWithoutVips();
    const proposed: CommandInput[] = [];
    const allocator = new VipAllocator({
      state: machine,
      propose: async (command) => {
        proposed.push(command);
        applyNext(machine, stamp(command, T0 + 100));
      },
      log: pino({ level: 'silent' }),
    });
    allocator.stateChanged(); // not the leader yet
    expect(proposed).toEqual([]);
    allocator.start();
    allocator.stateChanged(); // the first proposal is still in flight
    await new Promise((resolve) => setImmediate(resolve));
    expect(proposed).toEqual([{ type: 'service.vips' }]);
    expect(machine.service('web_api')!.vip).toBe('10.253.0.3');
    allocator.stateChanged();
    await new Promise((resolve) => setImmediate(resolve));
    expect(proposed).toHaveLength(1);
    allocator.stop();
  });
});
