import { request, type IncomingMessage } from 'node:http';
import { MAX_STACK_BODY_BYTES, isWorkloadApi, type TaskView } from '../../src/api/index.js';
import { json, send, startHarness, type Harness } from './harness.js';
import { ALPHA_LABELS, deployWeb, failWebApi1, print, until, webTask } from './web-stack.js';

// Real agents (test/agent/support): three nodes, the API of alpha served, the `web` stack deployed.
let h: Harness;
let deployedBetween: [number, number];
beforeEach(async () => {
  h = await startHarness({ labels: [ALPHA_LABELS] });
  const before = Date.now();
  await deployWeb(h);
  deployedBetween = [before, Date.now()];
});
afterEach(async () => {
  await h.close();
});
const unix = () => ({ socketPath: h.socketPath });

/** A streaming GET: lines arrive one by one; `close()` hangs up early. */
function openStream(path: string): Promise<{
  res: IncomingMessage;
  nextLine(): Promise<string | undefined>;
  close(): void;
}> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: h.socketPath, method: 'GET', path, agent: false }, (res) => {
      let buffer = '';
      let ended = false;
      const waiting: (() => void)[] = [];
      const wake = () => waiting.splice(0).forEach((f) => f());
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        wake();
      });
      res.on('end', () => {
        ended = true;
        wake();
      });
      res.on('error', () => {
        ended = true;
        wake();
      });
      const nextLine = async (): Promise<string | undefined> => {
        for (;;) {
          const at = buffer.indexOf('\n');
          if (at >= 0) {
            const line = buffer.slice(0, at);
            buffer = buffer.slice(at + 1);
            return line;
          }
          if (ended) return undefined;
          await new Promise<void>((r) => waiting.push(r));
        }
      };
      resolve({ res, nextLine, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('workload routes', () => {
  it('isWorkloadApi() tells a full workload api from a cluster-only one', () => {
    expect(isWorkloadApi(h.api.api)).toBe(true);
    expect(isWorkloadApi({ listStacks: () => [] })).toBe(false);
  });

  it('POST /v1/stacks deploys through the agent and reports per-service changes', async () => {
    const compose =
      'services:\n  api:\n    image: nginx:${TAG}\n    env_file: app.env\n  db:\n    image: postgres:16\n';
    const body = { name: 'shop', compose, file: 'compose.yml', env: { TAG: '1.25' }, files: { 'app.env': 'A=1\n' } };
    const first = await send(unix(), 'POST', '/v1/stacks', json(body));
    expect(first.status).toBe(200);
    expect(first.json).toEqual({
      stack: 'shop',
      services: [
        { name: 'api', change: 'created' },
        { name: 'db', change: 'created' },
      ],
      warnings: [],
    });
    expect(h.api.calls[0]).toMatchObject({ method: 'deployStack', args: [body] });
    const again = await send(unix(), 'POST', '/v1/stacks', json({ ...body, env: { TAG: '1.26' } }));
    expect(again.json.services).toEqual([
      { name: 'api', change: 'updated' },
      { name: 'db', change: 'unchanged' },
    ]);
    const api = await h.agent.agent.api.inspectService('shop_api');
    expect(api.spec).toMatchObject({ image: 'nginx:1.26', env: { A: '1' } });
  });

  it('POST /v1/stacks answers a bad file with one bad_request listing every error', async () => {
    const compose = 'services:\n  api:\n    image: nginx\n    deploy:\n      replicas: three\n  db: {}\n';
    const answer = await send(unix(), 'POST', '/v1/stacks', json({ name: 'shop', compose, file: 'compose.yml' }));
    expect(answer.status).toBe(400);
    expect(answer.json.error.code).toBe('bad_request');
    const lines = answer.json.error.message.split('\n');
    expect(lines[0]).toBe('stack shop: 2 error(s), nothing deployed:');
    expect(lines[1]).toMatch(/^compose\.yml:5 services\.api\.deploy\.replicas: /);
    expect(lines[2]).toMatch(/^compose\.yml:6 services\.db/);
    expect((await h.agent.agent.api.listStacks()).map((s) => s.name)).toEqual(['web']);
  });

  it('POST /v1/stacks takes bodies above 1 MiB up to its own limit, and checks the shape', async () => {
    const big = `services:\n  api:\n    image: nginx\n${'# padding\n'.repeat(150_000)}`;
    expect(big.length).toBeGreaterThan(1024 * 1024);
    const ok = await send(unix(), 'POST', '/v1/stacks', json({ name: 'big', compose: big, file: 'compose.yml' }));
    expect(ok.status).toBe(200);
    const tooBig = await send(
      unix(),
      'POST',
      '/v1/stacks',
      json({ name: 'big', compose: 'x'.repeat(MAX_STACK_BODY_BYTES), file: 'c.yml' }),
    );
    expect(tooBig.status).toBe(413);
    const badName = await send(unix(), 'POST', '/v1/stacks', json({ name: 'My.App', compose: 'x', file: 'c.yml' }));
    expect(badName.json.error.message).toMatch(/^body\.name: expected a string matching/);
    const badEnv = await send(
      unix(),
      'POST',
      '/v1/stacks',
      json({ name: 'a', compose: 'x', file: 'c.yml', env: { A: 1 } }),
    );
    expect(badEnv.json.error.message).toBe('body.env.A: expected a string, got 1');
  });

  it('GET /v1/stacks, DELETE /v1/stacks/:name and 404 for an unknown stack', async () => {
    const list = await send(unix(), 'GET', '/v1/stacks?stale=1');
    expect(list.json).toEqual([
      {
        name: 'web',
        services: 2,
        tasksRunning: 5,
        tasksDesired: 5,
        createdAt: expect.any(Number),
        updatedAt: expect.any(Number),
      },
    ]);
    // stamped by the agent when the deploy was committed
    const [stack] = list.json as { createdAt: number; updatedAt: number }[];
    expect(stack!.createdAt).toBeGreaterThanOrEqual(deployedBetween[0]);
    expect(stack!.updatedAt).toBeGreaterThanOrEqual(stack!.createdAt);
    expect(stack!.updatedAt).toBeLessThanOrEqual(deployedBetween[1]);
    expect(h.api.calls[0]!.args).toEqual(['stale']);
    expect((await send(unix(), 'DELETE', '/v1/stacks/web')).json).toEqual({ removed: 'web', services: 2 });
    const again = await send(unix(), 'DELETE', '/v1/stacks/web');
    expect(again.status).toBe(404);
    expect(again.json.error.code).toBe('not_found');
  });

  it('GET /v1/stacks/:name/tasks and /v1/services/:id/tasks pass ?all=1', async () => {
    const failed = await failWebApi1(h, 1);
    const live = await send(unix(), 'GET', '/v1/stacks/web/tasks');
    // 5 running; the failed task is listed too: the agent leaves its desired state at running
    // after replacing it, so it counts as live (see the report of issue 13)
    expect(live.json.filter((t: TaskView) => t.state === 'running')).toHaveLength(5);
    const all = await send(unix(), 'GET', '/v1/services/web_api/tasks?all=1');
    expect(all.json.map((t: TaskView) => `${t.name} ${t.state}`).sort()).toEqual([
      'web_api.1 failed',
      'web_api.1 running',
      'web_api.2 running',
    ]);
    expect(all.json.find((t: TaskView) => t.id === failed.id)).toMatchObject({
      state: 'failed',
      exitCode: 1,
      restarts: 1,
      message: 'exited with code 1; gave up after 1 restart (max_attempts 1)',
    });
    expect(h.api.calls.map((c) => c.args)).toEqual([
      ['web', false],
      ['web_api', true],
    ]);
  });

  it('GET /v1/services filters by ?stack=; GET /v1/services/:id inspects', async () => {
    expect((await send(unix(), 'GET', '/v1/services?stack=web')).json.map((s: { id: string }) => s.id)).toEqual([
      'web_agent',
      'web_api',
    ]);
    expect((await send(unix(), 'GET', '/v1/services?stack=none')).json).toEqual([]);
    const inspect = await send(unix(), 'GET', '/v1/services/web_api');
    expect(inspect.json).toMatchObject({ id: 'web_api', replicas: 2, spec: { image: 'nginx:1.25' } });
    expect(inspect.json.tasks).toHaveLength(2);
    expect((await send(unix(), 'GET', '/v1/services/nope')).status).toBe(404);
  });

  it('POST /v1/services/:id/scale checks replicas', async () => {
    const scaled = await send(unix(), 'POST', '/v1/services/web_api/scale', json({ replicas: 4 }));
    expect(scaled.json).toMatchObject({ id: 'web_api', desired: 4 });
    await until(
      '4 web_api tasks to run',
      () => h.agent.agent.api.serviceTasks('web_api'),
      (t) => t.length === 4,
    );
    const negative = await send(unix(), 'POST', '/v1/services/web_api/scale', json({ replicas: -1 }));
    expect(negative.status).toBe(400);
    expect(negative.json.error.message).toMatch(/^body\.replicas: expected an integer in \[0, 100000\], got -1$/);
  });

  it('POST /v1/nodes/:id/availability and /labels', async () => {
    const beta = h.idOf('beta');
    const alpha = h.idOf('alpha');
    const drained = await send(unix(), 'POST', `/v1/nodes/${beta}/availability`, json({ availability: 'drain' }));
    expect(drained.json).toMatchObject({ id: beta, availability: 'drain' });
    const wrong = await send(unix(), 'POST', `/v1/nodes/${beta}/availability`, json({ availability: 'off' }));
    expect(wrong.json.error.message).toBe('body.availability: expected one of active, drain, pause, got "off"');
    const labels = await send(
      unix(),
      'POST',
      `/v1/nodes/${alpha}/labels`,
      json({ add: { disk: 'ssd' }, remove: ['gpu'] }),
    );
    expect(labels.json.labels).toEqual({ zone: 'a', disk: 'ssd' });
    const badRemove = await send(unix(), 'POST', `/v1/nodes/${alpha}/labels`, json({ remove: [''] }));
    expect(badRemove.json.error.message).toBe('body.remove[0]: expected a non-empty string, got ""');
  });
});

describe('GET /v1/services/:id/logs', () => {
  it('sends NDJSON lines with ?tail= and ?since= and ends with the iterable', async () => {
    const [task1, task2] = [await webTask(h, 'web_api.1'), await webTask(h, 'web_api.2')];
    const now = Date.now();
    print(h, task1, 'old', { time: now - 60_000 });
    print(h, task2, 'one', { time: now + 1 });
    print(h, task2, 'two', { time: now + 2 });
    print(h, await webTask(h, 'web_agent.' + h.idOf('alpha').slice(0, 12)), 'not this service');
    const stream = await openStream('/v1/services/web_api/logs?tail=1');
    expect(stream.res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(stream.res.headers['transfer-encoding']).toBe('chunked');
    // the tail is per task (each node tails its own), then the tasks' lines are merged
    const tailed = [await stream.nextLine(), await stream.nextLine()].map((l) => JSON.parse(l!).line);
    expect(tailed.sort()).toEqual(['old', 'two']);
    expect(await stream.nextLine()).toBeUndefined();
    const since = await openStream(`/v1/services/web_api/logs?since=${now}`);
    expect(
      [await since.nextLine(), await since.nextLine(), await since.nextLine()].map((l) => l && JSON.parse(l).line),
    ).toEqual(['one', 'two', undefined]);
    const logCalls = h.api.calls.filter((c) => c.method === 'serviceLogs');
    expect(logCalls[0]!.args).toEqual([{ service: 'web_api', follow: false, tail: 1 }]);
  });

  it('with ?follow=1 delivers each line before the stream ends', async () => {
    await h.agent.agent.api.scaleService('web_api', 1);
    await until(
      'one web_api task',
      () => h.agent.agent.api.serviceTasks('web_api'),
      (t) => t.length === 1,
    );
    const task = await webTask(h, 'web_api.1');
    const stream = await openStream('/v1/services/web_api/logs?follow=1');
    const first = print(h, task, 'first');
    expect(JSON.parse((await stream.nextLine())!)).toEqual(first);
    print(h, task, 'second');
    expect(JSON.parse((await stream.nextLine())!).line).toBe('second');
    const { driver, id } = { driver: h.cluster.byId(task.nodeId!).driver, id: task.containerId! };
    driver.exit(id, 0); // a followed container that exits ends its stream, as `docker logs -f` does
    expect(await stream.nextLine()).toBeUndefined();
  });

  it('aborts the api signal when the client goes away', async () => {
    const stream = await openStream('/v1/services/web_api/logs?follow=1');
    print(h, await webTask(h, 'web_api.1'), 'hello');
    await stream.nextLine();
    const signal = h.api.calls.find((c) => c.method === 'serviceLogs')!.signal!;
    expect(signal.aborted).toBe(false);
    const aborted = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
    stream.close();
    await aborted;
    expect(signal.aborted).toBe(true);
  });

  it('stop() ends an open follow stream and aborts its signal', async () => {
    const stream = await openStream('/v1/services/web_api/logs?follow=1');
    print(h, await webTask(h, 'web_api.1'), 'hello');
    await stream.nextLine();
    await h.server.stop();
    expect(await stream.nextLine()).toBeUndefined();
    expect(h.api.calls.find((c) => c.method === 'serviceLogs')!.signal!.aborted).toBe(true);
  });

  it('answers 404 before streaming for an unknown service, and an error line for a late failure', async () => {
    const missing = await send(unix(), 'GET', '/v1/services/nope/logs');
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('not_found');
    print(h, await webTask(h, 'web_api.1'), 'ok');
    h.api.failStreamNext = { after: 1, error: new Error('the node went away') };
    const stream = await openStream('/v1/services/web_api/logs');
    expect(stream.res.statusCode).toBe(200);
    expect(JSON.parse((await stream.nextLine())!).line).toBe('ok');
    expect(JSON.parse((await stream.nextLine())!)).toEqual({
      error: { code: 'internal', message: "internal error: the node went away (details in the agent's log)" },
    });
    expect(await stream.nextLine()).toBeUndefined();
  });

  it('refuses a bad ?tail=', async () => {
    const answer = await send(unix(), 'GET', '/v1/services/web_api/logs?tail=ten');
    expect(answer.status).toBe(400);
    expect(answer.json.error.message).toMatch(/^query\.tail: expected an integer/);
  });
});
