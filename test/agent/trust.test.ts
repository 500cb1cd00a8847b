/**
 * Who may join and talk: wrong, rotated and malformed tokens are refused on both sides; a peer
 * that is not a member cannot use cluster protocols; garbage on the wire leaves agents running;
 * a removed node is revoked.
 */
import { jest } from '@jest/globals';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHost, loadOrCreateIdentity, RpcService, RemoteError, type P2PHost } from '../../src/p2p/index.js';
import { bootstrapCluster, makeAgents, waitFor, type StatusBody } from './support/agents.js';

jest.setTimeout(120_000);

describe('joining and trust', () => {
  const { agents, cleanup } = makeAgents(4, 'shoal-it-trust-');
  let token = '';
  let joinAddress = '';
  afterAll(cleanup);

  beforeAll(async () => {
    ({ token, joinAddress } = await bootstrapCluster(agents.slice(0, 3)));
  });

  it('shoal join with a wrong token is refused with a clear message on both sides', async () => {
    const outsider = agents[3]!;
    outsider.start();
    await outsider.waitForApi();
    const wrong = token.slice(0, -4) + (token.endsWith('aaaa') ? 'bbbb' : 'aaaa');
    const run = await outsider.cli(['join', joinAddress, '--token', wrong]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/token is wrong or was rotated/);
    await waitFor('the member to log the refusal', () =>
      agents.slice(0, 3).some((a) => a.output.includes('join refused')),
    );
  });

  it('a malformed token is refused before anything is sent', async () => {
    const run = await agents[3]!.cli(['join', joinAddress, '--token', 'SHOAL-9-nonsense']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/token/i);
  });

  it('a rotated (old) token no longer admits nodes; the current one does', async () => {
    const rotated = await agents[1]!.api<{ token: string }>('POST', '/v1/token/rotate');
    expect(rotated.status).toBe(200);
    const old = await agents[3]!.cli(['join', joinAddress, '--token', token]);
    expect(old.code).toBe(1);
    expect(old.stderr).toMatch(/rotated/);
    const ok = await agents[3]!.cli(['join', joinAddress, '--token', rotated.body.token]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    await waitFor('4 members', async () => {
      const reply = await agents[0]!.api<StatusBody>('GET', '/v1/status');
      return reply.body.members.length === 4;
    });
  });

  describe('a peer that is not a member', () => {
    let dir = '';
    let host: P2PHost;
    let rpc: RpcService;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'shoal-outsider-'));
      host = await createHost({ privateKey: (await loadOrCreateIdentity(dir)).privateKey });
      rpc = new RpcService(host);
      await rpc.start();
    });
    afterAll(async () => {
      await rpc.stop();
      await host.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('cannot call cluster methods (proposals are refused as NOT_MEMBER)', async () => {
      const memberId = joinAddress.split('/p2p/')[1]!;
      const error = await rpc
        .call(
          memberId,
          'cluster.propose',
          { type: 'node.remove', id: memberId },
          { addresses: [joinAddress], timeoutMs: 5_000 },
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteError);
      expect((error as RemoteError).code).toBe('NOT_MEMBER');
    });

    it('can reach the join challenge, and nothing more without a valid proof', async () => {
      const memberId = joinAddress.split('/p2p/')[1]!;
      const challenge = (await rpc.call(memberId, 'join.challenge', {}, { addresses: [joinAddress] })) as {
        nonce: Uint8Array;
      };
      expect(challenge.nonce).toBeInstanceOf(Uint8Array);
      const error = await rpc
        .call(
          memberId,
          'join.request',
          { nonce: challenge.nonce, proof: new Uint8Array(32), node: {} },
          { addresses: [joinAddress] },
        )
        .catch((e: unknown) => e);
      expect((error as RemoteError).code).toBe('unauthorized');
    });
  });

  it('garbage on the libp2p port leaves the agent running', async () => {
    const port = Number(/\/tcp\/(\d+)\//.exec(joinAddress)![1]);
    for (const payload of [
      Buffer.from('GET / HTTP/1.1\r\n\r\n'),
      Buffer.alloc(4096, 0xff),
      Buffer.from([0x13, 0x2f, 0x6d, 0x75, 0x6c, 0x74, 0x69]),
    ]) {
      await new Promise<void>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => socket.end(payload));
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
        socket.setTimeout(3_000, () => socket.destroy());
      });
    }
    const reply = await agents[0]!.api<StatusBody>('GET', '/v1/status');
    expect(reply.status).toBe(200);
    expect(agents[0]!.running).toBe(true);
  });

  it('node rm revokes a node: it leaves the configuration and cannot rejoin with its identity', async () => {
    const nodes = await agents[0]!.api<{ id: string; raftRole: string }[]>('GET', '/v1/nodes');
    const status = await agents[3]!.api<{ nodeId: string }>('GET', '/v1/status?stale=1');
    const victimId = status.body.nodeId;
    expect(nodes.body.map((n) => n.id)).toContain(victimId);
    const refused = await agents[0]!.cli(['node', 'rm', victimId]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/--force/);
    const removed = await agents[0]!.cli(['node', 'rm', '--force', victimId]);
    expect(removed.stderr).toBe('');
    expect(removed.code).toBe(0);
    await waitFor('the node to leave the configuration', async () => {
      const reply = await agents[1]!.api<StatusBody>('GET', '/v1/status');
      return !reply.body.members.some((m) => m.id === victimId);
    });
    const again = await agents[0]!.api<{ token: string }>('POST', '/v1/token/rotate');
    await agents[3]!.kill();
    rmSync(join(agents[3]!.dataDir, 'cluster.json'));
    rmSync(join(agents[3]!.dataDir, 'raft'), { recursive: true });
    agents[3]!.start();
    await agents[3]!.waitForApi();
    const rejoin = await agents[3]!.cli(['join', joinAddress, '--token', again.body.token]);
    expect(rejoin.code).not.toBe(0);
  });
});
