/**
 * The admin API serving the web UI's files (static-files.ts) and keeping browsers of other sites
 * out (browser-guard.ts), on a real agent's API over loopback TCP.
 */
import { request } from 'node:http';
import { createApiServer, type ApiServer, type StaticFiles } from '../../src/api/index.js';
import { InProcessCluster } from '../agent/support/in-process-cluster.js';
import { RecordingLogger } from './harness.js';

const FILES: StaticFiles = {
  'index.html': { type: 'text/html; charset=utf-8', body: '<!doctype html><title>shoal</title>' },
  'app.js': { type: 'text/javascript; charset=utf-8', body: 'console.log("ui")' },
};
const TOKEN = 'web-ui-serving-token-0123456789';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

let agents: InProcessCluster;
let server: ApiServer;
/** Loopback without a token, and loopback with the token required. */
let open: number;
let guarded: number;

beforeAll(async () => {
  agents = await InProcessCluster.start({ nodes: 1 });
  server = createApiServer(agents.agents[0]!.agent.api, {
    listen: [
      { host: '127.0.0.1', port: 0 },
      { host: '127.0.0.1', port: 0, requireToken: true },
    ],
    adminToken: TOKEN,
    ui: FILES,
    logger: new RecordingLogger(),
  });
  await server.start();
  [open, guarded] = server.addresses().map((address) => Number(new URL(address).port)) as [number, number];
});
afterAll(async () => {
  await server?.stop();
  await agents?.stop();
});

describe('createApiServer({ ui }) files', () => {
  it.each(['/ui', '/ui/'])(
    'serves index.html at %s without the token, with a strict content security policy',
    async (path) => {
      const answer = await get(guarded, path);
      expect(answer.status).toBe(200);
      expect(answer.text).toBe(FILES['index.html']!.body);
      expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(answer.headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'self'/);
      expect(answer.headers['x-frame-options']).toBe('DENY');
    },
  );

  it('serves the script, answers 304 to its ETag, and HEAD without a body', async () => {
    const first = await get(guarded, '/ui/app.js');
    expect(first.text).toBe('console.log("ui")');
    const etag = String(first.headers.etag);
    expect((await get(guarded, '/ui/app.js', { 'if-none-match': etag })).status).toBe(304);
    const head = await get(guarded, '/ui/app.js', {}, 'HEAD');
    expect([head.status, head.text, head.headers['content-length']]).toEqual([200, '', String(first.text.length)]);
  });

  it('redirects / to the UI, and answers 404 and 405 under /ui in words', async () => {
    const root = await get(open, '/');
    expect([root.status, root.headers.location]).toEqual([302, '/ui/']);
    const missing = await get(open, '/ui/nope.js');
    expect([missing.status, missing.text]).toEqual([
      404,
      'no such file in the web UI: /ui/nope.js (the UI lives at /ui/)\n',
    ]);
    const post = await get(open, '/ui/', {}, 'POST');
    expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD']);
  });

  it('still asks for the token on the API next to it', async () => {
    expect((await get(guarded, '/v1/status')).status).toBe(401);
    expect((await get(guarded, '/v1/status', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });
});

describe('createApiServer() and browsers of other sites', () => {
  it('refuses a request whose Origin is another site, even with the token', async () => {
    const answer = await get(guarded, '/v1/status', {
      authorization: `Bearer ${TOKEN}`,
      origin: 'https://evil.example',
    });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.text).error.message).toMatch(/^a page of https:\/\/evil\.example may not call/);
  });

  it("accepts the agent's own origin (the UI's requests)", async () => {
    const answer = await get(open, '/v1/status', { origin: `http://127.0.0.1:${open}` });
    expect(answer.status).toBe(200);
  });

  it('answers a listener without a token only when addressed by a loopback name (no DNS rebinding)', async () => {
    const rebound = await get(open, '/v1/status', { host: `evil.example:${open}` });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.text).error.message).toMatch(
      /answers only requests addressed to 127\.0\.0\.1, localhost or \[::1\]/,
    );
    expect((await get(open, '/v1/status', { host: `localhost:${open}` })).status).toBe(200);
    // with the token required, the name does not matter: the page of a rebound name has no token
    expect(
      (await get(guarded, '/v1/status', { host: 'shoal.example:7900', authorization: `Bearer ${TOKEN}` })).status,
    ).toBe(200);
  });
});
