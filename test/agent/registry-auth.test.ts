/**
 * Registry credentials (`--with-registry-auth`, issue 15): sealed on the service record, outside
 * its spec and hash, and handed by a member only to the node a task of the service is assigned to.
 */
import { pino } from 'pino';
import { RegistryAuthDelivery } from '../../src/agent/registry-auth.js';
import type { RpcContext, RpcHandler } from '../../src/p2p/index.js';
import type { RunnableAssignment } from '../../src/runtime/types.js';
import { createDataKey, sealSecret, secretDigest } from '../../src/security/index.js';
import { ClusterStateMachine, validateCommand } from '../../src/state/index.js';
import { nextRegistryAuth, registryAuthSealName, type SealedRegistryAuth } from '../../src/state/registry-auth.js';
import type { StackDeployCommand } from '../../src/state/workload-commands.js';
import { T0, init, peerId, register } from '../state/helpers.js';
import { applyAll, applyNext, deployOf, stackSpec, stamp } from '../state/workload-helpers.js';

const key = createDataKey();
const PASSWORD = 'pull-Pw-7c1e94';
const SPEC = stackSpec(
  'services:\n  app:\n    image: reg.example/app:v1\n  web:\n    image: other.example/web:1\n',
  'shop',
);

function sealed(serviceId: string, registry: string, value = `puller:${PASSWORD}`): SealedRegistryAuth {
  const name = registryAuthSealName(serviceId);
  return {
    registry,
    data: sealSecret(key, name, Buffer.from(value)),
    digest: secretDigest(key, name, Buffer.from(value)),
  };
}

/** `deployOf(SPEC)` with `auth` on service `app`. */
function deployWithAuth(at: number, auth: SealedRegistryAuth | undefined): StackDeployCommand {
  const command = deployOf(SPEC, at);
  return {
    ...command,
    services: command.services.map((s) => (s.name === 'app' && auth ? { ...s, registryAuth: auth } : s)),
  };
}

/** Nodes 1 and 2; stack shop whose `app` task t1 is on node 1 and `web` task t2 on node 2. */
function cluster(auth: SealedRegistryAuth | undefined = sealed('shop_app', 'reg.example')): ClusterStateMachine {
  const machine = new ClusterStateMachine();
  applyAll(machine, [
    init(),
    register(1),
    register(2),
    deployWithAuth(T0 + 10, auth),
    stamp(
      {
        type: 'task.create',
        tasks: [
          { id: 't1', serviceId: 'shop_app', slot: 1, serviceVersion: 1 },
          { id: 't2', serviceId: 'shop_web', slot: 1, serviceVersion: 1 },
        ],
      },
      T0 + 20,
    ),
    stamp(
      {
        type: 'task.assign',
        assignments: [
          { taskId: 't1', nodeId: peerId(1), gpus: [] },
          { taskId: 't2', nodeId: peerId(2), gpus: [] },
        ],
      },
      T0 + 30,
    ),
  ]);
  return machine;
}

/** A delivery on `machine`'s state as node `self`, a member, and the handlers it registered. */
function delivery(machine: ClusterStateMachine, self = 3) {
  const handlers = new Map<string, RpcHandler>();
  const calls: string[] = [];
  const parts = new RegistryAuthDelivery({
    selfId: peerId(self),
    store: {
      state: machine,
      read: async () => undefined,
      conf: { voters: [peerId(self)], learners: [] },
      leader: peerId(self),
    },
    rpc: {
      handle: (method: string, h: RpcHandler) => void handlers.set(method, h),
      call: async (peer: string, method: string) => {
        calls.push(`${method} ${peer}`);
        return null;
      },
    },
    keys: { key: async () => key, seal: async () => ({ data: '', digest: '', keyId: '' }) },
    log: pino({ level: 'silent' }),
  });
  parts.register();
  return { parts, handler: handlers.get('registryAuth.forTask')!, calls };
}

const from = (n: number): RpcContext => ({ peerId: peerId(n), signal: new AbortController().signal });

/** The runtime's assignment of task `taskId` of `serviceId` running `image`. */
function assignment(taskId: string, serviceId: string, image: string): RunnableAssignment {
  const spec = SPEC.services[serviceId.slice('shop_'.length)]!;
  return {
    task: { id: taskId },
    service: { id: serviceId, stack: 'shop', name: spec.name, version: 1, spec: { ...spec, image } },
  } as RunnableAssignment;
}

describe('registry credentials on the service record', () => {
  it('stack.deploy keeps them outside the spec and its hash, and the log never holds the password', () => {
    const machine = cluster();
    const app = machine.view().services['shop_app']!;
    expect(app.registryAuth?.registry).toBe('reg.example');
    expect(JSON.stringify(app.spec)).not.toContain('registry');
    expect(machine.view().services['shop_web']!.registryAuth).toBeUndefined();
    expect(Buffer.from(machine.snapshot()).includes(Buffer.from(PASSWORD))).toBe(false);
    // The snapshot restores them.
    const restored = new ClusterStateMachine();
    restored.restore(machine.snapshot(), machine.appliedIndex);
    expect(restored.view().services['shop_app']!.registryAuth).toEqual(app.registryAuth);
  });

  it('a redeploy without credentials keeps them; the same ones change nothing; new ones are no new version', () => {
    const machine = cluster();
    const before = machine.view().services['shop_app']!;
    applyAll(machine, [deployWithAuth(T0 + 40, undefined)]);
    expect(machine.view().services['shop_app']).toBe(before);
    applyAll(machine, [deployWithAuth(T0 + 50, sealed('shop_app', 'reg.example'))]); // another nonce, same value
    expect(machine.view().services['shop_app']).toBe(before);
    const other = sealed('shop_app', 'reg.example', 'puller:rotated');
    applyAll(machine, [deployWithAuth(T0 + 60, other)]);
    const after = machine.view().services['shop_app']!;
    expect(after.registryAuth).toEqual(other);
    expect(after.version).toBe(before.version);
    expect(after.specHash).toBe(before.specHash);
  });

  it.each([
    [
      'an unknown field',
      { registry: 'r.example', data: 'A'.repeat(40), digest: 'a'.repeat(64), user: 'x' },
      /unknown field/,
    ],
    ['a registry that is no host', { registry: 'a b', data: 'A'.repeat(40), digest: 'a'.repeat(64) }, /registry/],
    [
      'data that is not base64',
      { registry: 'r.example', data: 'user:password-in-clear!!!!!!!!!!!!!!!!!!!!', digest: 'a'.repeat(64) },
      /data/,
    ],
  ])('validateCommand() refuses %s', (_what, registryAuth, message) => {
    const command = deployOf(SPEC, T0);
    const bad = { ...command, services: [{ ...command.services[0]!, registryAuth }] };
    expect(() => validateCommand(bad)).toThrow(message);
  });

  it('nextRegistryAuth() keeps, replaces or leaves the credentials as a deploy says', () => {
    const a = sealed('shop_app', 'reg.example');
    expect(nextRegistryAuth(a, undefined)).toBe(a);
    expect(nextRegistryAuth(undefined, a)).toBe(a);
    expect(nextRegistryAuth(a, { ...a, data: sealed('shop_app', 'reg.example').data })).toBe(a);
    const moved = { ...a, registry: 'other.example' };
    expect(nextRegistryAuth(a, moved)).toBe(moved);
  });

  it('a command carrying them still applies when the spec is unchanged', () => {
    const machine = cluster(undefined);
    expect(applyNext(machine, deployWithAuth(T0 + 40, sealed('shop_app', 'reg.example'))).ok).toBe(true);
    expect(machine.view().services['shop_app']!.registryAuth?.registry).toBe('reg.example');
  });
});

describe("RegistryAuthDelivery's registryAuth.forTask", () => {
  it('answers the node a task is assigned to with its service credentials', async () => {
    const answer = await delivery(cluster()).handler({ taskId: 't1' }, from(1));
    expect(answer).toEqual({ registry: 'reg.example', username: 'puller', password: PASSWORD });
  });

  it.each([
    ['another node asking for the task', 't1', 2, /task t1 is not assigned to node/],
    ['a task that does not exist', 'nope', 1, /task nope is not assigned/],
  ])('refuses %s', async (_what, taskId, node, message) => {
    const answer = Promise.resolve(delivery(cluster()).handler({ taskId }, from(node)));
    await expect(answer).rejects.toMatchObject({ code: 'REFUSED', message: expect.stringMatching(message) });
  });

  it('hands a task whose service has no credentials nothing', async () => {
    expect(await delivery(cluster()).handler({ taskId: 't2' }, from(2))).toEqual({});
  });

  it('does not open credentials moved onto another service', async () => {
    const machine = cluster(sealed('shop_web', 'reg.example')); // sealed for web, stored on app
    await expect(Promise.resolve(delivery(machine).handler({ taskId: 't1' }, from(1)))).rejects.toThrow(
      /sealed with another data key, or damaged/,
    );
  });
});

describe('RegistryAuthDelivery.forPull()', () => {
  it("asks only for a pull from the credentials' registry, and gets them from the member (here itself)", async () => {
    const machine = cluster();
    const { parts, calls } = delivery(machine, 1); // node 1 is a member and runs t1
    expect(await parts.forPull(assignment('t1', 'shop_app', 'reg.example/app:v1'))).toEqual({
      username: 'puller',
      password: PASSWORD,
    });
    expect(await parts.forPull(assignment('t1', 'shop_app', 'elsewhere.example/app:v1'))).toBeNull();
    expect(await parts.forPull(assignment('t2', 'shop_web', 'other.example/web:1'))).toBeNull();
    expect(calls).toEqual([]);
  });

  it('forWatch() opens the credentials of a service of the watched repository, and only those', async () => {
    const { parts } = delivery(cluster());
    expect(await parts.forWatch({ registry: 'reg.example', name: 'reg.example/app' })).toEqual({
      username: 'puller',
      password: PASSWORD,
    });
    expect(await parts.forWatch({ registry: 'reg.example', name: 'reg.example/other' })).toBeNull();
    expect(await parts.forWatch({ registry: 'other.example', name: 'other.example/web' })).toBeNull();
  });

  it('fails the pull with the refusal when the member says the task is not the node’s', async () => {
    const { parts } = delivery(cluster(), 2); // node 2 does not run t1
    await expect(parts.forPull(assignment('t1', 'shop_app', 'reg.example/app:v1'))).rejects.toThrow(
      /Cannot get the registry credentials of task t1: refused/,
    );
  });
});
