import { describe, expect, it } from '@jest/globals';
import { ClusterStateMachine, decodeState, validateCommand } from '../../src/state/index.js';
import { T0, init, register } from './helpers.js';
import { applyAll, applyNext, deployOf, stackSpec, stamp, withSpec } from './workload-helpers.js';

const YAML = `
services:
  api:
    image: nginx:1.27
    deploy:
      replicas: 2
    x-shoal:
      autoscale: {min: 1, max: 6, target_cpu: 70}
  plain:
    image: nginx:1.27
`;
const SHOP = stackSpec(YAML, 'shop');
const api = SHOP.services.api!;
const metrics = [{ kind: 'cpu' as const, value: 92.4, target: 70 }];

function deployed(): ClusterStateMachine {
  const machine = new ClusterStateMachine();
  applyAll(machine, [init(), register(1), deployOf(SHOP, T0 + 10)]);
  return machine;
}

const autoscale = (from: number, replicas: number, at = T0 + 20, serviceId = 'shop_api') =>
  stamp(
    { type: 'service.autoscale', serviceId, from, replicas, reason: `cpu 92 % of 70 % → ${replicas}`, metrics },
    at,
  );

describe('service.autoscale', () => {
  it('sets the replicas and records the decision on the service', () => {
    const machine = deployed();
    applyAll(machine, [autoscale(2, 3)]);
    expect(machine.service('shop_api')).toMatchObject({
      replicas: 3,
      updatedAt: T0 + 20,
      autoscale: { at: T0 + 20, from: 2, to: 3, reason: 'cpu 92 % of 70 % → 3', metrics },
    });
  });

  it.each([
    ['a stale decision (scaled meanwhile)', autoscale(4, 5), 'has 2 replicas, not 4: it was scaled meanwhile'],
    ['a service that is not autoscaled', autoscale(1, 2, T0 + 20, 'shop_plain'), 'is not autoscaled'],
    ['a count beyond max', autoscale(2, 7), 'outside min..max (1..6)'],
    ['a removed service', autoscale(2, 3, T0 + 20, 'shop_gone'), 'does not exist'],
  ])('refuses %s', (_what, command, message) => {
    const result = applyNext(deployed(), command);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toContain(message);
  });

  it('validates the command at the edge', () => {
    expect(() => validateCommand({ ...autoscale(2, 3), metrics: [{ kind: 'qps', value: 1, target: 50 }] })).toThrow(
      /service.autoscale: metrics\[0\].kind: expected one of/,
    );
    expect(() => validateCommand({ ...autoscale(2, 3), reason: 'x'.repeat(501) })).toThrow(/reason/);
  });

  it('survives a snapshot, and snapshots from before it (no autoscale field) still load', () => {
    const machine = deployed();
    const before = machine.snapshot();
    const beforeIndex = machine.appliedIndex;
    applyAll(machine, [autoscale(2, 3)]);
    const restored = new ClusterStateMachine();
    restored.restore(machine.snapshot(), machine.appliedIndex);
    expect(restored.service('shop_api')!.autoscale).toEqual(machine.service('shop_api')!.autoscale);
    expect(decodeState(before, beforeIndex).state.services.shop_api!.autoscale).toBeUndefined();
  });

  it('a redeploy of an autoscaled service keeps the count the autoscaler reached, within the new bounds', () => {
    const machine = deployed();
    applyAll(machine, [autoscale(2, 5)]);
    applyAll(machine, [deployOf(SHOP, T0 + 30, { ...SHOP.services, api: withSpec(api, { image: 'nginx:1.28' }) })]);
    expect(machine.service('shop_api')).toMatchObject({ version: 2, replicas: 5 });
    const narrower = withSpec(api, { image: 'nginx:1.29', autoscale: { ...api.autoscale!, max: 4 } });
    applyAll(machine, [deployOf(SHOP, T0 + 40, { ...SHOP.services, api: narrower })]);
    expect(machine.service('shop_api')!.replicas).toBe(4);
  });
});
