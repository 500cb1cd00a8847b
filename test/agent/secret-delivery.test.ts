import { pino } from 'pino';
import { SecretDelivery } from '../../src/agent/secret-delivery.js';
import type { RpcContext, RpcHandler } from '../../src/p2p/index.js';
import { createDataKey, dataKeyId, sealSecret, secretDigest } from '../../src/security/index.js';
import { ClusterStateMachine } from '../../src/state/index.js';
import { T0, init, peerId, register } from '../state/helpers.js';
import { applyAll, deployOf, stackSpec, stamp } from '../state/workload-helpers.js';

const key = createDataKey();
const VALUE = Buffer.from('hunter2');

/** Nodes 1 and 2; `db_pw` sealed; stack shop whose `db` task t1 is assigned to node 1. */
function cluster(): ClusterStateMachine {
  const machine = new ClusterStateMachine();
  const spec = stackSpec(
    'services:\n  db:\n    image: i\n    secrets: [pw]\n  web:\n    image: i\nsecrets:\n  pw: {external: true, name: db_pw}\n',
    'shop',
  );
  applyAll(machine, [
    init(),
    register(1),
    register(2),
    stamp({ type: 'secret.key', keyId: dataKeyId(key) }, T0 + 5),
    stamp(
      {
        type: 'secret.create',
        name: 'db_pw',
        data: sealSecret(key, 'db_pw', VALUE),
        digest: secretDigest(key, 'db_pw', VALUE),
        sizeBytes: VALUE.length,
        stack: null,
        keyId: dataKeyId(key),
      },
      T0 + 6,
    ),
    deployOf(spec, T0 + 10),
    stamp(
      {
        type: 'task.create',
        tasks: [
          { id: 't1', serviceId: 'shop_db', slot: 1, serviceVersion: 1 },
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

/** The `secrets.forTask` handler a member serves, on `machine`'s state. */
function handler(machine: ClusterStateMachine): RpcHandler {
  const handlers = new Map<string, RpcHandler>();
  const delivery = new SecretDelivery({
    selfId: peerId(3),
    store: {
      state: machine,
      read: async () => undefined,
      conf: { voters: [peerId(3)], learners: [] },
      leader: peerId(3),
    },
    rpc: { handle: (method: string, h: RpcHandler) => void handlers.set(method, h), call: async () => null },
    keys: { key: async () => key },
    log: pino({ level: 'silent' }),
  });
  delivery.register();
  return handlers.get('secrets.forTask')!;
}

const from = (n: number): RpcContext => ({ peerId: peerId(n), signal: new AbortController().signal });

describe("SecretDelivery's secrets.forTask", () => {
  it('answers the node a task is assigned to with the secrets its service names', async () => {
    const answer = await handler(cluster())({ taskId: 't1' }, from(1));
    expect(answer).toEqual({ secrets: [{ name: 'db_pw', data: VALUE.toString('base64') }] });
  });

  it.each([
    ['another node asking for the task', 't1', 2, /task t1 is not assigned to node/],
    ['a task that does not exist', 'nope', 1, /task nope is not assigned/],
  ])('refuses %s', async (_what, taskId, node, message) => {
    const answer = Promise.resolve(handler(cluster())({ taskId }, from(node)));
    await expect(answer).rejects.toMatchObject({ code: 'REFUSED', message: expect.stringMatching(message) });
  });

  it('hands a task whose service names no secret nothing', async () => {
    expect(await handler(cluster())({ taskId: 't2' }, from(2))).toEqual({ secrets: [] });
  });
});
