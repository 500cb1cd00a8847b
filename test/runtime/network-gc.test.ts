import { shortNodeId, type ObservedNetwork } from '../../src/runtime/index.js';
import { unusedNetworks } from '../../src/runtime/network-gc.js';
import type { RuntimeAssignment } from '../../src/runtime/types.js';
import type { TaskRecord } from '../../src/state/workloads.js';
import { assignment, BASE_SPEC, serviceFromCompose, task } from './fixtures.js';

const NODE = 'node-a';
const net = (stack: string, name = 'default'): ObservedNetwork => ({
  id: `id-${stack}-${name}`,
  name: `${stack}_${name}_${shortNodeId(NODE)}`,
  stack,
});
const names = (ns: readonly ObservedNetwork[]) => ns.map((n) => n.name);
const wants = (overrides: Partial<TaskRecord> = {}, stack = 'app'): RuntimeAssignment =>
  assignment(task({ id: `t-${stack}`, nodeId: NODE, ...overrides }), BASE_SPEC, stack);

describe('unusedNetworks()', () => {
  it.each<[string, boolean, Partial<TaskRecord>]>([
    ['a task waiting for its container', true, { state: 'assigned' }],
    ['a running task', true, { state: 'running' }],
    ['a task told to shut down', false, { state: 'running', desiredState: 'shutdown' }],
    ['a rejected task (it never got a container)', false, { state: 'rejected' }],
    ['a completed job unit', false, { state: 'complete' }],
    ['a task assigned to another node', false, { nodeId: 'node-b' }],
  ])('unusedNetworks() with %s keeps its network: %s', (_, kept, overrides) => {
    const out = unusedNetworks({ nodeId: NODE, desired: [wants(overrides)], networks: [net('app')] });
    expect(names(out)).toEqual(kept ? [] : [net('app').name]);
  });

  it('unusedNetworks() removes the networks of a removed stack and of a task whose service is gone', () => {
    const gone: RuntimeAssignment = { task: task({ id: 't-old', nodeId: NODE, state: 'running' }), service: null };
    const out = unusedNetworks({
      nodeId: NODE,
      desired: [wants({ state: 'running' }, 'web'), gone],
      networks: [net('web'), net('old'), net('app')],
    });
    expect(names(out)).toEqual([net('app').name, net('old').name]);
  });

  it('unusedNetworks() keeps the network of a service that scales to zero while one of its tasks is assigned here', () => {
    const zero = serviceFromCompose(
      'image: x\nports: ["8080:80"]\nx-shoal:\n  autoscale: {min: 0, max: 2, target_cpu: 50}',
      'web',
      'app',
    );
    const ended = assignment(task({ id: 't-app', nodeId: NODE, state: 'shutdown', desiredState: 'shutdown' }), zero);
    // At zero: its last task ended, and the next connection starts one again (on the network kept).
    expect(unusedNetworks({ nodeId: NODE, desired: [ended], networks: [net('app')] })).toEqual([]);
    // The same task of a service that does not scale to zero: its network goes.
    expect(names(unusedNetworks({ nodeId: NODE, desired: [wants(ended.task)], networks: [net('app')] }))).toEqual([
      net('app').name,
    ]);
    // The stack removed: no task of it left here, the network goes.
    expect(names(unusedNetworks({ nodeId: NODE, desired: [], networks: [net('app')] }))).toEqual([net('app').name]);
  });

  it('unusedNetworks() keeps every network a service names, and none with network_mode', () => {
    const spec = serviceFromCompose(
      'image: x\nnetworks: [front, back]',
      'api',
      'shop',
      'networks:\n  front: {}\n  back: {}\n',
    );
    const hostSpec = serviceFromCompose('image: x\nnetwork_mode: host', 'agent', 'mon');
    const desired = [
      assignment(task({ id: 't-1', nodeId: NODE }), spec, 'shop'),
      assignment(task({ id: 't-2', nodeId: NODE }), hostSpec, 'mon'),
    ];
    const networks = [net('shop', 'front'), net('shop', 'back'), net('shop'), net('mon')];
    expect(names(unusedNetworks({ nodeId: NODE, desired, networks }))).toEqual([net('mon').name, net('shop').name]);
  });

  it('unusedNetworks() returns at most `limit`, in name order from `after`, wrapping around', () => {
    const networks = ['a', 'b', 'c', 'd'].map((s) => net(s));
    const first = unusedNetworks({ nodeId: NODE, desired: [], networks, limit: 2 });
    expect(names(first)).toEqual([net('a').name, net('b').name]);
    const next = unusedNetworks({ nodeId: NODE, desired: [], networks, limit: 3, after: first[1]!.name });
    expect(names(next)).toEqual([net('c').name, net('d').name, net('a').name]);
  });

  it('unusedNetworks() refuses a limit that is not an integer >= 0', () => {
    expect(() => unusedNetworks({ nodeId: NODE, desired: [], networks: [], limit: -1 })).toThrow(RangeError);
  });
});
