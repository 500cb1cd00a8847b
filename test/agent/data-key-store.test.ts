import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DataKeyStore } from '../../src/agent/data-key-store.js';
import type { RpcContext, RpcHandler } from '../../src/p2p/index.js';
import { dataKeyId } from '../../src/security/index.js';
import { ClusterStateMachine, type CommandInput } from '../../src/state/index.js';
import { fileObjectsOf } from '../../src/state/secrets.js';
import { T0, init, peerId } from '../state/helpers.js';
import { applyNext, stamp } from '../state/workload-helpers.js';

/** Members 1..3 sharing one state machine (as if every write committed at once), and an RPC mesh between them. */
function members(machine: ClusterStateMachine, root: string) {
  const handlers = new Map<string, Map<string, RpcHandler>>();
  const conf = { voters: [peerId(1), peerId(2)], learners: [peerId(3)] };
  const make = (n: number, role: 'member' | 'observer' = 'member') => {
    const own = new Map<string, RpcHandler>();
    handlers.set(peerId(n), own);
    return new DataKeyStore({
      selfId: peerId(n),
      dataDir: join(root, `n${n}`),
      store: {
        state: machine,
        conf,
        role,
        leader: peerId(1),
        propose: async (command: CommandInput) => {
          const result = applyNext(machine, stamp(command, T0 + machine.appliedIndex));
          if (!result.ok) throw new Error(result.error);
          return result;
        },
      },
      rpc: {
        handle: (method: string, handler: RpcHandler) => void own.set(method, handler),
        call: async (peer: string, method: string, payload: unknown) => {
          const context: RpcContext = { peerId: peerId(n), signal: new AbortController().signal };
          return handlers.get(peer)!.get(method)!(payload, context);
        },
      },
      log: pino({ level: 'silent' }),
    });
  };
  return make;
}

describe('DataKeyStore', () => {
  let root = '';
  let machine: ClusterStateMachine;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'shoal-keys-'));
    machine = new ClusterStateMachine();
    applyNext(machine, init());
  });
  afterEach(async () => rm(root, { recursive: true, force: true }));

  it('the first member makes the key and records its id; the others fetch the same key', async () => {
    const make = members(machine, root);
    const [a, b, c] = [make(1), make(2), make(3)];
    for (const s of [a, b, c]) s.register();
    const key = await b.key();
    expect(fileObjectsOf(machine.view()).keyId).toBe(dataKeyId(key));
    expect(await a.key()).toEqual(key);
    expect(await c.key()).toEqual(key);
    const file = join(root, 'n1', 'data-key');
    expect(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64')).toEqual(Buffer.from(key));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('a member whose own key lost the race drops it for the recorded one', async () => {
    const make = members(machine, root);
    const [a, b] = [make(1), make(2)];
    for (const s of [a, b]) s.register();
    const [ka, kb] = await Promise.all([a.key(), b.key()]);
    expect(ka).toEqual(kb);
    expect(fileObjectsOf(machine.view()).keyId).toBe(dataKeyId(ka));
  });

  it('gives the key to Raft members only', async () => {
    const make = members(machine, root);
    const a = make(1);
    a.register();
    const outsider = make(4);
    await a.key();
    await expect(outsider.key()).rejects.toThrow(/Raft members only/);
  });

  it('an observer has the leader seal for it, and never holds the key', async () => {
    const make = members(machine, root);
    const leader = make(1);
    leader.register();
    const observer = make(4, 'observer');
    const sealed = await observer.seal('db_pw', Buffer.from('hunter2'));
    expect(sealed.keyId).toBe(dataKeyId(await leader.key()));
    await expect(stat(join(root, 'n4', 'data-key'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
