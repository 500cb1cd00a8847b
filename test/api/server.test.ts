import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { json, RecordingLogger, send, startHarness, type Harness } from './harness.js';
import { ApiError, createApiServer, type ClusterApi } from '../../src/api/index.js';
import { InProcessCluster } from '../agent/support/in-process-cluster.js';

describe('createApiServer() routes', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });
  const unix = () => ({ socketPath: h.socketPath });
  const tcp = () => ({ port: h.port });

  it('GET /v1/status answers the StatusView over the unix socket with a linearizable read', async () => {
    const answer = await send(unix(), 'GET', '/v1/status');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    const direct = await h.agent.agent.api.status();
    expect(answer.json).toMatchObject({
      initialized: true,
      clusterId: direct.clusterId,
      nodeId: h.idOf('alpha'),
      leader: direct.leader,
    });
    expect(answer.json.members.map((m: { hostname: string }) => m.hostname).sort()).toEqual(['alpha', 'beta', 'gamma']);
    expect(h.api.calls[0]).toMatchObject({ method: 'status', args: ['linearizable'] });
  });

  it('GET /v1/status?stale=1 asks for a stale read', async () => {
    expect((await send(tcp(), 'GET', '/v1/status?stale=1')).status).toBe(200);
    expect((await send(tcp(), 'GET', '/v1/status?stale=false')).status).toBe(200);
    expect(h.api.calls.map((call) => call.args[0])).toEqual(['stale', 'linearizable']);
  });

  it('GET /v1/nodes lists the nodes over TCP', async () => {
    const answer = await send(tcp(), 'GET', '/v1/nodes');
    expect(answer.status).toBe(200);
    expect(answer.json.map((node: { hostname: string }) => node.hostname).sort()).toEqual(['alpha', 'beta', 'gamma']);
  });

  it('POST /v1/init creates a cluster (201) and a second init is a 409 conflict', async () => {
    await h.close();
    h = await startHarness({ nodes: 1, form: false });
    const first = await send(unix(), 'POST', '/v1/init', json({ clusterName: 'lab' }));
    expect(first.status).toBe(201);
    expect(first.json).toEqual({ clusterId: expect.any(String), nodeId: h.idOf('alpha'), token: expect.any(String) });
    expect((await send(unix(), 'GET', '/v1/token')).json.token).toBe(first.json.token);
    const second = await send(unix(), 'POST', '/v1/init');
    expect(second.status).toBe(409);
    expect(second.json).toEqual({
      error: { code: 'conflict', message: expect.stringContaining('already part of a cluster') },
    });
  });

  it('POST /v1/join passes address and token to the api, which joins the member there', async () => {
    await h.close();
    h = await startHarness({ nodes: 2, form: false });
    const member = h.cluster.agents[1]!.agent;
    const { clusterId, token } = await member.api.init({});
    const address = member.advertisedAddresses()[0]!;
    const answer = await send(unix(), 'POST', '/v1/join', json({ address, token }));
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ clusterId, nodeId: h.idOf('alpha'), members: 1 });
    expect(h.api.calls[0]!.args[0]).toEqual({ address, token });
  });

  it('DELETE /v1/nodes/:id?force=1 removes the node with force', async () => {
    const beta = h.idOf('beta');
    const answer = await send(unix(), 'DELETE', `/v1/nodes/${beta}?force=1`);
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ removed: beta });
    expect(h.api.calls[0]).toMatchObject({ method: 'removeNode', args: [beta, true] });
    expect((await h.agent.agent.api.listNodes()).map((node) => node.id)).not.toContain(beta);
  });

  it('DELETE /v1/nodes/:id of an unknown node maps ApiError not_found to 404', async () => {
    const answer = await send(unix(), 'DELETE', '/v1/nodes/nope');
    expect(answer.status).toBe(404);
    expect(answer.json.error).toEqual({ code: 'not_found', message: expect.stringContaining('No node nope') });
    expect(h.api.calls[0]!.args).toEqual(['nope', false]);
  });

  it('GET /v1/token and POST /v1/token/rotate show and replace the token', async () => {
    const before = await send(unix(), 'GET', '/v1/token');
    const rotated = await send(unix(), 'POST', '/v1/token/rotate');
    const after = await send(unix(), 'GET', '/v1/token?stale=1');
    expect(before.json.token).toEqual(expect.any(String));
    expect(rotated.json).toEqual({ token: expect.any(String), fingerprint: expect.any(String) });
    expect(rotated.json.token).not.toBe(before.json.token);
    expect(after.json).toEqual(rotated.json);
  });

  it('POST /v1/leader/transfer takes an optional target', async () => {
    const gamma = h.idOf('gamma');
    const to = await send(unix(), 'POST', '/v1/leader/transfer', json({ to: gamma }));
    expect(to.json).toEqual({ leader: gamma });
    await h.cluster.until('gamma to lead', () => h.cluster.leader().name === 'gamma');
    const any = await send(unix(), 'POST', '/v1/leader/transfer');
    expect(any.status).toBe(200);
    expect(h.api.calls.map((call) => call.args[0])).toEqual([gamma, undefined]);
  });

  it('maps ApiError unavailable to 503 with its code and message', async () => {
    h.api.failNext = new ApiError(503, 'unavailable', 'no leader right now: retry');
    const answer = await send(unix(), 'GET', '/v1/status');
    expect(answer.status).toBe(503);
    expect(answer.json).toEqual({ error: { code: 'unavailable', message: 'no leader right now: retry' } });
  });

  it('answers any other error with 500 internal and logs it', async () => {
    h.api.failNext = new Error('disk on fire');
    const answer = await send(unix(), 'GET', '/v1/nodes');
    expect(answer.status).toBe(500);
    expect(answer.json.error.code).toBe('internal');
    expect(answer.json.error.message).toContain('disk on fire');
    const logged = h.logger.entries.find((entry) => entry.level === 'error');
    expect(logged?.object).toMatchObject({ method: 'GET', url: '/v1/nodes' });
    expect((logged?.object as { err: Error }).err.message).toBe('disk on fire');
  });

  it('answers an unknown path with 404 and a wrong method with 405 and Allow', async () => {
    const missing = await send(unix(), 'GET', '/v1/nope');
    expect(missing.status).toBe(404);
    expect(missing.json.error.message).toContain('GET /v1/nope');
    const wrong = await send(unix(), 'POST', '/v1/status');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET');
  });

  it('serves the workload routes only when the api implements WorkloadApi', async () => {
    expect((await send(unix(), 'GET', '/v1/stacks')).status).toBe(200);
    await h.close();
    // An agent before the services milestone: only the ClusterApi methods.
    const agents = await InProcessCluster.start({ nodes: 1 });
    const full = agents.agents[0]!.agent.api;
    const clusterOnly: ClusterApi = {
      status: full.status,
      listNodes: full.listNodes,
      init: full.init,
      join: full.join,
      removeNode: full.removeNode,
      rotateToken: full.rotateToken,
      showToken: full.showToken,
      transferLeader: full.transferLeader,
      discover: full.discover,
    };
    const dir = await mkdtemp(join(tmpdir(), 'shoal-api-'));
    const socketPath = join(dir, 'shoal.sock');
    const server = createApiServer(clusterOnly, { socketPath, logger: new RecordingLogger() });
    await server.start();
    try {
      expect((await send({ socketPath }, 'GET', '/v1/stacks')).status).toBe(404);
      expect((await send({ socketPath }, 'GET', '/v1/nodes')).status).toBe(200);
    } finally {
      await server.stop();
      await agents.stop();
      await rm(dir, { recursive: true, force: true });
    }
    h = await startHarness({ nodes: 1 });
  });
});

describe('createApiServer() request validation', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  const unix = () => ({ socketPath: h.socketPath });

  it.each([
    ['bad JSON', '/v1/leader/transfer', '{"to":', /^body: not valid JSON/],
    ['an array body', '/v1/leader/transfer', '[]', /^body: expected a JSON object, got an array/],
    ['an unknown field', '/v1/leader/transfer', '{"too":"x"}', /^body\.too: unknown field \(expected one of to\)/],
    ['a wrong type', '/v1/leader/transfer', '{"to":5}', /^body\.to: expected a non-empty string, got 5/],
    [
      'a missing field',
      '/v1/join',
      '{"address":"/ip4/1.2.3.4/tcp/1/p2p/x"}',
      /^body\.token: required field is missing/,
    ],
    [
      'a malformed multiaddr',
      '/v1/join',
      '{"address":"10.0.0.1:7946","token":"t"}',
      /^body\.address: expected a string matching/,
    ],
    ['a bad cluster name', '/v1/init', '{"clusterName":"-x"}', /^body\.clusterName: expected a string matching/],
    [
      'a body where none is taken',
      '/v1/token/rotate',
      '{"x":1}',
      /^body\.x: unknown field \(this request takes none\)/,
    ],
  ])('refuses %s with 400 naming the field', async (_what, path, body, message) => {
    const answer = await send(unix(), 'POST', path, { body, headers: { 'content-type': 'application/json' } });
    expect(answer.status).toBe(400);
    expect(answer.json.error.code).toBe('bad_request');
    expect(answer.json.error.message).toMatch(message);
  });

  it.each([
    ['/v1/status?bogus=1', /^query\.bogus: unknown field \(expected one of stale\)/],
    ['/v1/status?stale=maybe', /^query\.stale: expected 1, true, 0 or false, got "maybe"/],
    ['/v1/status?stale=1&stale=0', /^query\.stale: given more than once/],
  ])('refuses the query %s with 400 naming the parameter', async (path, message) => {
    const answer = await send(unix(), 'GET', path);
    expect(answer.status).toBe(400);
    expect(answer.json.error.message).toMatch(message);
  });

  it('refuses a body on a GET route and a non-JSON content type', async () => {
    const get = await send(unix(), 'GET', '/v1/status', json({}));
    expect(get.json.error.message).toBe('body: GET /v1/status takes no body');
    const text = await send(unix(), 'POST', '/v1/leader/transfer', {
      body: 'to=x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    expect(text.json.error.message).toContain('application/json');
  });

  it('refuses a body over 1 MiB with 413', async () => {
    const big = JSON.stringify({ to: 'x'.repeat(1024 * 1024 + 1) });
    const answer = await send(unix(), 'POST', '/v1/leader/transfer', {
      body: big,
      headers: { 'content-type': 'application/json' },
    });
    expect(answer.status).toBe(413);
    expect(answer.json.error.message).toContain('1048576');
  });

  it('decodes path parameters', async () => {
    const answer = await send(unix(), 'DELETE', '/v1/nodes/a%20b?force=true');
    expect(answer.status).toBe(404);
    expect(h.api.calls.at(-1)!.args).toEqual(['a b', true]);
  });
});

describe('createApiServer() client disconnect', () => {
  it('aborts the ClusterApi call when the client goes away', async () => {
    const h = await startHarness();
    try {
      h.api.hang = true;
      const req = request({ socketPath: h.socketPath, method: 'GET', path: '/v1/status', agent: false });
      req.on('error', () => undefined);
      req.end();
      // Wait (bounded) for the call to reach the api, then hang up.
      for (let i = 0; i < 200 && h.api.calls.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      const signal = h.api.calls[0]!.signal!;
      expect(signal.aborted).toBe(false);
      const aborted = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      req.destroy();
      await aborted;
      expect(signal.aborted).toBe(true);
    } finally {
      await h.close();
    }
  });
});
