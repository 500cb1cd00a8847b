import {
  ClusterStateMachine,
  encodeState,
  servicesWithoutVip,
  type ClusterState,
  type ServiceRecord,
} from '../../src/state/index.js';
import { T0 } from './helpers.js';
import { applyAll, applyNext, deployOf, deployed, stackSpec, stamp } from './workload-helpers.js';

const SHOP = stackSpec(
  `
services:
  web:
    image: busybox
  db:
    image: postgres
`,
  'shop',
);

const vips = (machine: ClusterStateMachine): Record<string, string | undefined> =>
  Object.fromEntries(machine.services().map((s) => [s.id, s.vip]));

/** The state without any service address, as a snapshot taken before VIPs existed holds it. */
function withoutVips(state: ClusterState): ClusterState {
  const services: Record<string, ServiceRecord> = {};
  for (const [id, { vip: _vip, ...rest }] of Object.entries(state.services)) services[id] = rest;
  return { ...state, services };
}

describe('service addresses (VIPs)', () => {
  it('stack.deploy gives each long-running service the lowest free address, in id order; jobs get none', () => {
    const machine = deployed();
    expect(vips(machine)).toEqual({ web_agent: '10.253.0.2', web_api: '10.253.0.3', web_batch: undefined });
  });

  it('a redeploy keeps the addresses; a removed stack frees them for the next deploy', () => {
    const machine = deployed();
    applyAll(machine, [deployOf(SHOP, T0 + 20)]);
    expect(vips(machine)).toMatchObject({ shop_db: '10.253.0.4', shop_web: '10.253.0.5' });
    applyAll(machine, [deployOf(SHOP, T0 + 25, { web: { ...SHOP.services.web!, image: 'busybox:2' } })]);
    expect(vips(machine)).toMatchObject({ shop_web: '10.253.0.5' });
    expect(machine.service('shop_db')).toBeUndefined(); // dropped from the file: removed
    applyAll(machine, [stamp({ type: 'stack.remove', name: 'web' }, T0 + 30)]);
    applyAll(machine, [deployOf(SHOP, T0 + 40)]);
    expect(vips(machine)).toEqual({ shop_db: '10.253.0.2', shop_web: '10.253.0.5' });
  });

  it('an older snapshot without addresses loads; service.vips then gives them in id order, once', () => {
    const original = deployed();
    applyAll(original, [deployOf(SHOP, T0 + 20)]);
    const restored = new ClusterStateMachine();
    restored.restore(encodeState(withoutVips(original.state()), original.appliedIndex), original.appliedIndex);
    expect(servicesWithoutVip(restored.state().services)).toEqual(['shop_db', 'shop_web', 'web_agent', 'web_api']);
    expect(applyNext(restored, stamp({ type: 'service.vips' }, T0 + 50)).ok).toBe(true);
    expect(vips(restored)).toEqual({
      shop_db: '10.253.0.2',
      shop_web: '10.253.0.3',
      web_agent: '10.253.0.4',
      web_api: '10.253.0.5',
      web_batch: undefined,
    });
    const before = restored.state();
    expect(applyNext(restored, stamp({ type: 'service.vips' }, T0 + 60)).ok).toBe(true);
    expect(restored.state().services).toBe(before.services);
  });

  it('a snapshot where two services share an address is refused, naming both', () => {
    const machine = deployed();
    const state = machine.state();
    const services = { ...state.services, web_agent: { ...state.services.web_agent!, vip: '10.253.0.3' } };
    const restored = new ClusterStateMachine();
    expect(() => restored.restore(encodeState({ ...state, services }, 9), 9)).toThrow(
      /services\.web_api\.vip: "10\.253\.0\.3" is the address of service "web_agent" too/,
    );
  });

  it('refuses an address outside the range in a snapshot', () => {
    const machine = deployed();
    const state = machine.state();
    const services = { ...state.services, web_api: { ...state.services.web_api!, vip: '10.1.0.3' } };
    expect(() => new ClusterStateMachine().restore(encodeState({ ...state, services }, 9), 9)).toThrow(
      /web_api\.vip: expected a service address in 10\.253\.0\.0\/16/,
    );
  });
});
