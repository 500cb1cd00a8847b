/**
 * Nodes record their OS and architecture (Docker's names), so that `platform:` in a Compose file
 * can place a service: registration stores it, an update sets it, snapshots keep it, and the
 * scheduler's view of the node carries it to the constraints.
 */
import { constraintsOf, toNodeView } from '../../src/controllers/placement.js';
import { firstUnmet, parseConstraints } from '../../src/scheduler/constraints.js';
import { parsePlatform } from '../../src/stack/platform.js';
import { ClusterStateMachine, validateCommand, type Command } from '../../src/state/index.js';
import { T0, entries, init, peerId, register } from './helpers.js';
import { stackSpec, withSpec } from './workload-helpers.js';

function machineWith(commands: Command[]): ClusterStateMachine {
  const machine = new ClusterStateMachine();
  for (const entry of entries([init(), ...commands])) expect(machine.apply(entry)).toMatchObject({ ok: true });
  return machine;
}

describe('node platform', () => {
  it('node.register stores it and node.update sets it on a node registered without one', () => {
    const machine = machineWith([
      register(1, T0 + 1, { platform: { os: 'linux', arch: 'arm64' } }),
      register(2),
      { v: 1, type: 'node.update', id: peerId(2), platform: { os: 'linux', arch: 'amd64' }, at: T0 + 5 },
    ]);
    expect(machine.node(peerId(1))?.platform).toEqual({ os: 'linux', arch: 'arm64' });
    expect(machine.node(peerId(2))?.platform).toEqual({ os: 'linux', arch: 'amd64' });
    const restored = new ClusterStateMachine();
    restored.restore(machine.snapshot(), machine.appliedIndex);
    expect(restored.node(peerId(1))?.platform).toEqual({ os: 'linux', arch: 'arm64' });
  });

  it('node.register refuses a malformed platform, naming the field', () => {
    const bad = register(1, T0 + 1, { platform: { os: 'Linux OS', arch: 'amd64' } });
    expect(() => validateCommand(bad)).toThrow(/node\.register: platform\.os: expected lowercase letters/);
  });

  it('a service with platform: linux/arm64 fits the arm64 node only', () => {
    const machine = machineWith([
      register(1, T0 + 1, { platform: { os: 'linux', arch: 'arm64' } }),
      register(2, T0 + 2, { platform: { os: 'linux', arch: 'amd64' } }),
    ]);
    const base = stackSpec('services:\n  api:\n    image: nginx:1\n', 'web').services.api!;
    const spec = withSpec(base, { platform: parsePlatform('linux/aarch64') });
    const constraints = parseConstraints(constraintsOf(spec));
    const fits = [1, 2].map((n) => firstUnmet(constraints, toNodeView(machine.node(peerId(n))!)) === undefined);
    expect(fits).toEqual([true, false]);
  });
});
