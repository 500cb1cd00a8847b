/**
 * MeshNode without root: a node where the mesh cannot start (no `ip`, no root) says why and stays
 * out of the way. What it does when it can start is tested on the test bed
 * (test/testbed/service-mesh.test.ts) and its table in mesh-table.test.ts.
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { MeshNode } from '../../src/agent/mesh-node.js';
import { CommandError, type CommandRunner } from '../../src/mesh/index.js';
import { createHost } from '../../src/p2p/index.js';
import { ClusterStateMachine } from '../../src/state/index.js';

describe('MeshNode', () => {
  it('start() fails with the command that failed, undoes what it started, and syncs nothing after', async () => {
    const host = await createHost({ privateKey: await generateKeyPair('Ed25519') });
    const calls: string[] = [];
    const run: CommandRunner = async (command, args) => {
      calls.push([command, ...args].join(' '));
      return { code: 2, stdout: '', stderr: 'RTNETLINK answers: Operation not permitted' };
    };
    const mesh = new MeshNode({
      selfId: host.peerId,
      host,
      state: new ClusterStateMachine(),
      propose: async () => undefined,
      observed: () => [],
      addressesOf: () => [],
      run,
      resolvConfPath: join(mkdtempSync(join(tmpdir(), 'shoal-mesh-')), 'mesh', 'resolv.conf'),
      upstream: [],
      syncIntervalMs: 10,
      log: pino({ level: 'silent' }),
    });
    await expect(mesh.start()).rejects.toThrow(CommandError);
    await expect(mesh.start()).rejects.toThrow(/Operation not permitted/);
    const made = calls.length;
    mesh.stateChanged();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls.length).toBe(made); // no sync loop runs on a mesh that did not start
    await mesh.stop();
    await host.stop();
  });
});
