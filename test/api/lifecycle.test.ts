import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServerConfigError, SocketInUseError, createApiServer } from '../../src/api/index.js';
import { createAdminToken, hashAdminToken } from '../../src/security/index.js';
import { InProcessCluster } from '../agent/support/in-process-cluster.js';
import type { AgentApi } from './recording-api.js';
import { RecordingLogger, send, startHarness } from './harness.js';

const logger = new RecordingLogger();

// One real agent (in a cluster of its own) behind the servers these tests make.
let agents: InProcessCluster;
let api: AgentApi;
beforeAll(async () => {
  agents = await InProcessCluster.start({ nodes: 1 });
  api = agents.agents[0]!.agent.api;
});
afterAll(async () => {
  await agents?.stop();
});

describe('createApiServer() authentication', () => {
  const token = createAdminToken();

  it('refuses to be created on a non-loopback address without an admin token', () => {
    const create = () => createApiServer(api, { listen: [{ host: '0.0.0.0', port: 7900 }], logger });
    expect(create).toThrow(ApiServerConfigError);
    expect(create).toThrow(/Cannot listen on 0\.0\.0\.0:7900 without an admin token/);
    expect(() => createApiServer(api, { listen: [{ host: '::', port: 7900 }], logger })).toThrow(/\[::\]:7900/);
  });

  it('refuses requireToken on a listener when no token is set', () => {
    expect(() =>
      createApiServer(api, { listen: [{ host: '127.0.0.1', port: 0, requireToken: true }], logger }),
    ).toThrow(/Cannot require a token on 127\.0\.0\.1:0: no admin token given/);
  });

  it('accepts a non-loopback address once a token is set (not started: tests stay on loopback)', () => {
    expect(() =>
      createApiServer(api, { listen: [{ host: '0.0.0.0', port: 0 }], adminToken: token, logger }),
    ).not.toThrow();
  });

  it('requires the bearer token on a listener that requires it, and not on the unix socket', async () => {
    const h = await startHarness({
      nodes: 1,
      server: { listen: [{ host: '127.0.0.1', port: 0, requireToken: true }], adminToken: token },
    });
    try {
      const none = await send({ port: h.port }, 'GET', '/v1/status');
      expect(none.status).toBe(401);
      expect(none.json.error).toEqual({
        code: 'unauthorized',
        message: expect.stringContaining('Authorization: Bearer'),
      });
      expect(none.headers['www-authenticate']).toBe('Bearer realm="shoal"');
      const wrong = await send({ port: h.port }, 'GET', '/v1/status', {
        headers: { authorization: `Bearer ${createAdminToken()}` },
      });
      expect(wrong.status).toBe(401);
      const basic = await send({ port: h.port }, 'GET', '/v1/status', { headers: { authorization: `Basic ${token}` } });
      expect(basic.status).toBe(401);
      const right = await send({ port: h.port }, 'GET', '/v1/status', {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(right.status).toBe(200);
      expect((await send({ socketPath: h.socketPath }, 'GET', '/v1/status')).status).toBe(200);
      expect(h.api.calls).toHaveLength(2); // refused requests never reach the api
    } finally {
      await h.close();
    }
  });

  it('accepts the token given as its stored hash', async () => {
    const h = await startHarness({
      nodes: 1,
      server: { listen: [{ host: '127.0.0.1', port: 0, requireToken: true }], adminTokenHash: hashAdminToken(token) },
    });
    try {
      expect(
        (await send({ port: h.port }, 'GET', '/v1/nodes', { headers: { authorization: `Bearer ${token}` } })).status,
      ).toBe(200);
      expect(
        (await send({ port: h.port }, 'GET', '/v1/nodes', { headers: { authorization: 'Bearer x' } })).status,
      ).toBe(401);
    } finally {
      await h.close();
    }
  });

  it('loopback TCP needs no token by default', async () => {
    const h = await startHarness({ nodes: 1 });
    try {
      expect((await send({ port: h.port }, 'GET', '/v1/status')).status).toBe(200);
    } finally {
      await h.close();
    }
  });
});

describe('createApiServer() unix socket', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoal-sock-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the socket with mode 0600 and removes it on stop', async () => {
    const socketPath = join(dir, 'shoal.sock');
    const server = createApiServer(api, { socketPath, logger });
    await server.start();
    await server.start(); // idempotent
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    expect(server.addresses()).toEqual([`unix://${socketPath}`]);
    await server.stop();
    await server.stop();
    expect(existsSync(socketPath)).toBe(false);
    expect(server.addresses()).toEqual([]);
  });

  it('removes a stale socket left by a dead agent', async () => {
    const socketPath = join(dir, 'shoal.sock');
    // A real dead agent: a process that binds the socket and is killed without cleaning up.
    const child = spawn(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    await new Promise((resolve) => child.once('exit', resolve));
    expect(statSync(socketPath).isSocket()).toBe(true);
    const server = createApiServer(api, { socketPath, logger });
    await server.start();
    try {
      expect((await send({ socketPath }, 'GET', '/v1/status')).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('refuses a socket a live agent answers on, and leaves it in place', async () => {
    const socketPath = join(dir, 'shoal.sock');
    const live = createServer();
    await new Promise<void>((resolve) => live.listen(socketPath, resolve));
    try {
      const server = createApiServer(api, { socketPath, logger });
      await expect(server.start()).rejects.toThrow(SocketInUseError);
      await expect(server.start()).rejects.toThrow(/another shoal agent is running/);
      expect(statSync(socketPath).isSocket()).toBe(true);
    } finally {
      await new Promise((resolve) => live.close(resolve));
    }
  });

  it('refuses a path that is not a socket', async () => {
    const socketPath = join(dir, 'shoal.sock');
    await writeFile(socketPath, 'not a socket');
    const server = createApiServer(api, { socketPath, logger });
    await expect(server.start()).rejects.toThrow(/exists and is not a socket/);
  });

  it('names the address when a TCP port is taken, and closes what it had opened', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    const socketPath = join(dir, 'shoal.sock');
    try {
      const server = createApiServer(api, {
        socketPath,
        listen: [{ host: '127.0.0.1', port }],
        logger,
      });
      await expect(server.start()).rejects.toThrow(`Cannot listen on 127.0.0.1:${port}: the address is in use`);
      expect(existsSync(socketPath)).toBe(false);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('serves extra routes given in options', async () => {
    const socketPath = join(dir, 'shoal.sock');
    const server = createApiServer(api, {
      socketPath,
      logger,
      routes: [{ method: 'GET', path: '/v1/stacks/:name', handle: async ({ params }) => ({ name: params.name }) }],
    });
    await server.start();
    try {
      expect((await send({ socketPath }, 'GET', '/v1/stacks/web')).json).toEqual({ name: 'web' });
    } finally {
      await server.stop();
    }
  });

  it('refuses to be created with nowhere to listen', () => {
    expect(() => createApiServer(api, { logger })).toThrow(/give a socketPath, a listen address, or both/);
  });
});
