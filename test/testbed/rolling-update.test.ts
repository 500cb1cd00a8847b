/**
 * A rolling update under load on two separate machines (test/support/testbed.ts, agents with
 * `--mesh`; issue 14 item 5, issue 15): `web` (busybox httpd answering its VERSION, 2 replicas,
 * health check, start-first, parallelism 1, monitor 2 s) takes a constant load of fresh
 * connections from n2's namespace on the published port of both machines, and by name (its
 * virtual IP) from a `client` container on n1, started before
 * `shoal service update web --env-add VERSION=v2` and stopped once the rollout completed. No
 * request may fail, and both versions must have answered. Needs root and Docker (CI has both):
 * skipped with a message otherwise.
 */
import { jest } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE, BUNDLE, waitFor } from '../agent/support/agents.js';
import { TestBed, testBedCanRun } from '../support/testbed.js';
import { formCluster } from '../support/testbed-cluster.js';

jest.setTimeout(180_000);

const IMAGE = 'shoal-test/busybox:latest';
const canRun = testBedCanRun('the rolling update test bed');

interface TaskRow {
  readonly serviceId: string;
  readonly nodeId: string | null;
  readonly state: string;
  readonly desiredState: string;
}
interface ServiceRow {
  readonly version: number;
  readonly update?: { readonly state: string; readonly toVersion: number };
}
interface LoadResult {
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  readonly bodies: Readonly<Record<string, number>>;
  readonly errors: readonly string[];
}

/** Writes its VERSION as the page, then serves it; exits at once on SIGTERM (httpd as PID 1 would ignore it). */
const SERVE =
  "mkdir -p /tmp/w; echo $${VERSION} > /tmp/w/index.html; trap 'kill $$p; exit 0' TERM; httpd -f -p 80 -h /tmp/w & p=$$!; wait";

const COMPOSE = [
  'services:',
  '  web:',
  `    image: ${IMAGE}`,
  `    command: ["sh", "-c", ${JSON.stringify(SERVE)}]`,
  '    environment: {VERSION: v1}',
  '    ports: ["8080:80"]',
  '    stop_grace_period: 2s',
  '    healthcheck:',
  '      test: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1/ || exit 1"]',
  '      interval: 1s',
  '      timeout: 1s',
  '      retries: 3',
  '    deploy:',
  '      replicas: 2',
  '      update_config: {parallelism: 1, order: start-first, monitor: 2s, failure_action: pause}',
  '  client:',
  `    image: ${IMAGE}`,
  '    command: ["sleep", "3600"]',
  '    stop_grace_period: 1s',
  '    deploy:',
  '      placement:',
  '        constraints: ["node.hostname == n1"]',
  '',
].join('\n');

/**
 * The load, run in a machine's namespace: 2 workers, each a GET on a fresh connection to the
 * published port (the targets in turn) then a 100 ms pause, until stdin ends; prints the counts.
 */
const LOAD = `
const http = require('node:http');
const targets = JSON.parse(process.argv[1]);
const result = { sent: 0, ok: 0, failed: 0, bodies: {}, errors: [] };
let running = true;
const get = (host) => new Promise((resolve, reject) => {
  const req = http.request({ host, port: 8080, path: '/', agent: false, timeout: 3000 }, (res) => {
    let text = '';
    res.on('data', (chunk) => (text += chunk));
    res.on('end', () => (res.statusCode === 200 ? resolve(text.trim()) : reject(new Error('status ' + res.statusCode))));
    res.on('error', reject);
  });
  req.on('timeout', () => req.destroy(new Error('no answer in 3000 ms')));
  req.on('error', reject);
  req.end();
});
const worker = async (first) => {
  for (let i = first; running; i++) {
    const host = targets[i % targets.length];
    result.sent++;
    try {
      const body = await get(host);
      result.ok++;
      result.bodies[body] = (result.bodies[body] ?? 0) + 1;
    } catch (error) {
      result.failed++;
      if (result.errors.length < 10) result.errors.push(new Date().toISOString() + ' ' + host + ': ' + error.message);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
};
const done = Promise.all([0, 1].map(worker));
process.stdin.on('end', async () => {
  running = false;
  await done;
  process.stdout.write(JSON.stringify(result));
});
process.stdin.resume();
`;

/**
 * The load by name, in the client container: a GET of http://web/ (the service's virtual IP, a new
 * connection each) every 100 ms until /tmp/stop exists; prints each answer, or `failed`. busybox
 * wget's own -T crashes in the test image: `timeout` bounds it instead.
 */
const CLIENT_LOAD =
  'rm -f /tmp/stop; while [ ! -e /tmp/stop ]; do timeout 3 wget -qO- http://web/ || echo failed; sleep 0.1; done';

(canRun ? describe : describe.skip)('a rolling update across separate machines', () => {
  let dir = '';
  let bed: TestBed;
  const logs = () =>
    bed.nodes.map((n) => `[n${n.index + 1}]\n${readTail(join(n.dataDir, '..', 'agent.log'))}`).join('\n');
  const runningWeb = async () =>
    ((await bed.api<TaskRow[]>(0, '/v1/stacks/tb/tasks')) ?? []).filter(
      (t) => t.serviceId === 'tb_web' && t.state === 'running' && t.desiredState === 'running',
    );
  const web = async () => bed.api<ServiceRow>(0, '/v1/services/tb_web');
  const cli = (...args: string[]): string =>
    execFileSync(NODE, [BUNDLE, ...args], {
      env: { ...process.env, SHOAL_ADDR: `unix://${bed.nodes[0]!.socket}` },
      encoding: 'utf8',
    });
  /** Starts the load in node `from`'s namespace; `stop()` ends it and returns its counts. */
  const startLoad = (from: number, targets: readonly string[]) => {
    const load = spawn(
      'nsenter',
      [`--net=/run/netns/${bed.nodes[from]!.host.name}`, '--', NODE, '-e', LOAD, JSON.stringify(targets)],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    let out = '';
    load.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<void>((resolve) => load.on('exit', () => resolve()));
    return {
      stop: async (): Promise<LoadResult> => {
        load.stdin.end();
        await exited;
        return JSON.parse(out) as LoadResult;
      },
    };
  };

  /** Starts {@link CLIENT_LOAD} in the client container on n1; `stop()` ends it and counts the answers. */
  const startClientLoad = () => {
    const engine = bed.nodes[0]!.engine;
    const env = { ...process.env, DOCKER_HOST: engine.dockerHost };
    const client = engine.docker(['ps', '-q', '--filter', 'label=shoal.service.id=tb_client']).trim();
    const load = spawn('docker', ['exec', client, 'sh', '-c', CLIENT_LOAD], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    load.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    load.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<void>((resolve) => load.on('exit', () => resolve()));
    return {
      stop: async (): Promise<Record<string, number>> => {
        execFileSync('docker', ['exec', client, 'touch', '/tmp/stop'], { env });
        await exited;
        const answers: Record<string, number> = {};
        for (const line of out.split('\n').filter((l) => l.trim() !== '')) answers[line] = (answers[line] ?? 0) + 1;
        return answers;
      },
    };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-rolling-bed-'));
    bed = TestBed.create(2, dir);
    execFileSync('bash', ['scripts/build-test-image.sh', IMAGE], { stdio: 'ignore' });
    await bed.up([IMAGE]);
    const flags = ['--tick-ms', '50', '--node-grace-ms', '3000', '--mesh'];
    await formCluster(bed, flags, logs);
    const compose = join(dir, 'tb.yml');
    writeFileSync(compose, COMPOSE);
    cli('stack', 'deploy', '-f', compose, 'tb');
    let lastTasks: TaskRow[] = [];
    await waitFor(
      'two healthy replicas of web, one on each machine, and the client',
      async () => {
        const rows = (await bed.api<TaskRow[]>(0, '/v1/stacks/tb/tasks')) ?? [];
        lastTasks = rows;
        const client = rows.some((t) => t.serviceId === 'tb_client' && t.state === 'running');
        return client && new Set((await runningWeb()).map((t) => t.nodeId)).size === 2;
      },
      60_000,
      () => `${logs()}\n${JSON.stringify(lastTasks)}`,
    );
  });

  afterAll(async () => {
    await bed?.down();
  });

  it('loses no request while the rollout replaces every task, and serves both versions', async () => {
    const targets = bed.nodes.map((n) => n.host.address);
    const from = 1;
    // Both published ports answer v1 before the load starts.
    for (const address of targets)
      await waitFor(
        `v1 on ${address}:8080`,
        async () => {
          const load = startLoad(from, [address]);
          await new Promise((r) => setTimeout(r, 300));
          const { bodies } = await load.stop();
          return (bodies.v1 ?? 0) > 0 && Object.keys(bodies).length === 1;
        },
        20_000,
        logs,
      );
    await waitFor(
      'v1 by name from the client',
      async () => {
        const load = startClientLoad();
        await new Promise((r) => setTimeout(r, 300));
        return JSON.stringify(await load.stop()).startsWith('{"v1":');
      },
      20_000,
      logs,
    );
    const before = (await web())!.version;
    const load = startLoad(from, targets);
    const byName = startClientLoad();
    await new Promise((r) => setTimeout(r, 1_000)); // load under way before the update
    cli('service', 'update', 'tb_web', '--env-add', 'VERSION=v2');
    await waitFor(
      'the rollout to v2 completed',
      async () => {
        const service = await web();
        return service?.update?.state === 'completed' && service.update.toVersion > before;
      },
      90_000,
      logs,
    );
    const result = await load.stop();
    const answersByName = await byName.stop();
    process.stdout.write(
      `rolling update under load: ${JSON.stringify(result)}, by name: ${JSON.stringify(answersByName)}\n`,
    );
    expect(result.errors).toEqual([]);
    expect(result.failed).toBe(0);
    expect(result.ok).toBe(result.sent);
    expect(result.bodies.v1).toBeGreaterThan(0);
    expect(result.bodies.v2).toBeGreaterThan(0);
    expect(Object.keys(result.bodies).sort()).toEqual(['v1', 'v2']);
    expect(Object.keys(answersByName).sort()).toEqual(['v1', 'v2']); // no `failed`, nothing else
    // The replicas that run now are the new version's: after the rollout, only v2 answers.
    expect((await runningWeb()).length).toBe(2);
    const after = startLoad(from, targets);
    await new Promise((r) => setTimeout(r, 500));
    expect(Object.keys((await after.stop()).bodies)).toEqual(['v2']);
  });
});

function readTail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').slice(-12_000) : '(no log)';
}
