/**
 * Autoscaling on requests per second across separate machines (test/support/testbed.ts, agents
 * with `--mesh`; docs/ARCHITECTURE.md, "Autoscaling (issue 16)", "Requests per second"): `web`
 * (busybox httpd, health check, `target_rps: 5`, min 1, max 4, sync 1 s, down window 3 s) takes
 * a steady 18 requests/s of fresh connections from n2's namespace, half on n1's published port
 * and half on n2's. Each node's proxy counts only its half (9/s alone asks for ceil(9 / 5) = 2),
 * so reaching ceil(18 / 5) = 4 needs the leader to sum both nodes' counts, and its rate must be
 * that sum at each of 5 syncs in a row (nodes report every 2 s, a sync is 1 s). Once the load stops,
 * `web` goes back to 1 after the down window. Needs root and Docker (CI has both): skipped with a
 * message otherwise.
 */
import { jest } from '@jest/globals';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE, BUNDLE, waitFor } from '../agent/support/agents.js';
import { TestBed, testBedCanRun } from '../support/testbed.js';
import { formCluster } from '../support/testbed-cluster.js';

jest.setTimeout(180_000);

const IMAGE = 'shoal-test/busybox:latest';
const canRun = testBedCanRun('the autoscale rps test bed');

/** Requests per second a task should take. */
const TARGET_RPS = 5;
/** The load, over both machines' published ports: 3.6 × the target, 1.8 × on each machine. */
const LOAD_RPS = 18;
const MAX = 4;

interface TaskRow {
  readonly serviceId: string;
  readonly nodeId: string | null;
  readonly state: string;
  readonly desiredState: string;
}
interface ServiceRow {
  readonly replicas: number;
  readonly autoscale?: {
    readonly metrics: readonly { kind: string; target: number; value: number | null }[];
    /** When the leader last decided (its clock). */
    readonly syncedAt: number | null;
    readonly lastDecision: { from: number; to: number; reason: string } | null;
  };
}
interface LoadResult {
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  readonly skipped: number;
  readonly byTarget: Readonly<Record<string, number>>;
  readonly elapsedMs: number;
  readonly errors: readonly string[];
}

const COMPOSE = [
  'services:',
  '  web:',
  `    image: ${IMAGE}`,
  '    command: ["httpd", "-f", "-p", "80", "-h", "/www"]',
  '    ports: ["8080:80"]',
  '    stop_grace_period: 1s', // busybox httpd ignores SIGTERM: do not wait 10 s for each stop
  '    healthcheck:',
  '      test: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1/ || exit 1"]',
  '      interval: 1s',
  '      timeout: 1s',
  '      retries: 3',
  '    x-shoal:',
  `      autoscale: {min: 1, max: ${MAX}, target_rps: ${TARGET_RPS}, sync_period: 1s, scale_down_window: 3s}`,
  '',
].join('\n');

/**
 * The load, run in a machine's namespace: GETs on fresh connections to port 8080 of the targets in
 * turn, the nth due at start + n / rate (a steady rate whatever the latency; at most 64 in flight,
 * beyond that a request is skipped), until stdin ends or `maxMs` passed; prints the counts.
 */
const LOAD = `
const http = require('node:http');
const [targets, rate, maxMs] = [JSON.parse(process.argv[1]), Number(process.argv[2]), Number(process.argv[3])];
const result = { sent: 0, ok: 0, failed: 0, skipped: 0, byTarget: {}, elapsedMs: 0, errors: [] };
const started = Date.now();
let inFlight = 0;
let n = 0;
let timer;
const fail = (host, message) => {
  result.failed++;
  if (result.errors.length < 10) result.errors.push(new Date().toISOString() + ' ' + host + ': ' + message);
};
const get = (host) => {
  inFlight++;
  result.sent++;
  const req = http.request({ host, port: 8080, path: '/', agent: false, timeout: 3000 }, (res) => {
    res.resume();
    res.on('end', () => {
      inFlight--;
      if (res.statusCode !== 200) return fail(host, 'status ' + res.statusCode);
      result.ok++;
      result.byTarget[host] = (result.byTarget[host] ?? 0) + 1;
    });
  });
  req.on('timeout', () => req.destroy(new Error('no answer in 3000 ms')));
  req.on('error', (error) => { inFlight--; fail(host, error.message); });
  req.end();
};
const finish = () => {
  clearTimeout(timer);
  const end = Date.now() + 5000;
  const wait = () => (inFlight > 0 && Date.now() < end ? setTimeout(wait, 20) : done());
  const done = () => {
    result.elapsedMs = Date.now() - started;
    process.stdout.write(JSON.stringify(result));
    process.exit(0);
  };
  wait();
};
const tick = () => {
  if (Date.now() - started >= maxMs) return finish();
  while (started + (n * 1000) / rate <= Date.now()) {
    const host = targets[n++ % targets.length];
    if (inFlight >= 64) result.skipped++;
    else get(host);
  }
  timer = setTimeout(tick, Math.max(1, started + (n * 1000) / rate - Date.now()));
};
process.stdin.on('end', finish);
process.stdin.resume();
tick();
`;

(canRun ? describe : describe.skip)('autoscaling on requests per second across separate machines', () => {
  let dir = '';
  let bed: TestBed;
  let load: ChildProcess | null = null;
  const logs = () =>
    bed.nodes.map((n) => `[n${n.index + 1}]\n${readTail(join(n.dataDir, '..', 'agent.log'))}`).join('\n');
  const runningWeb = async () =>
    ((await bed.api<TaskRow[]>(0, '/v1/stacks/tb/tasks')) ?? []).filter(
      (t) => t.serviceId === 'tb_web' && t.state === 'running' && t.desiredState === 'running',
    );
  const web = async () => bed.api<ServiceRow>(0, '/v1/services/tb_web');
  /** Starts the load in node `from`'s namespace (at most 60 s); `stop()` ends it and returns its counts. */
  const startLoad = (from: number, targets: readonly string[], rate: number) => {
    const child = spawn(
      'nsenter',
      [
        `--net=/run/netns/${bed.nodes[from]!.host.name}`,
        '--',
        NODE,
        '-e',
        LOAD,
        JSON.stringify(targets),
        String(rate),
        '60000',
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    load = child;
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    return {
      stop: async (): Promise<LoadResult> => {
        child.stdin!.end();
        await exited;
        load = null;
        return JSON.parse(out) as LoadResult;
      },
    };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-rps-bed-'));
    bed = TestBed.create(2, dir);
    execFileSync('bash', ['scripts/build-test-image.sh', IMAGE], { stdio: 'ignore' });
    await bed.up([IMAGE]);
    const flags = ['--tick-ms', '50', '--node-grace-ms', '3000', '--mesh'];
    await formCluster(bed, flags, logs);
    const compose = join(dir, 'tb.yml');
    writeFileSync(compose, COMPOSE);
    execFileSync(NODE, [BUNDLE, 'stack', 'deploy', '-f', compose, 'tb'], {
      env: { ...process.env, SHOAL_ADDR: `unix://${bed.nodes[0]!.socket}` },
      encoding: 'utf8',
    });
    await waitFor('one running task of web', async () => (await runningWeb()).length === 1, 60_000, logs);
  });

  afterAll(async () => {
    if (load?.pid !== undefined) load.kill('SIGKILL'); // a failed test left its load running
    await bed?.down();
  });

  it('sums both machines’ request counts to scale up, and returns to min once the load stops', async () => {
    const targets = bed.nodes.map((n) => n.host.address);
    // Both published ports answer before the load starts.
    for (const address of targets)
      await waitFor(
        `web on ${address}:8080`,
        async () => {
          const probe = startLoad(1, [address], 10);
          await new Promise((r) => setTimeout(r, 300));
          return (await probe.stop()).ok > 0;
        },
        20_000,
        logs,
      );

    const running = startLoad(1, targets, LOAD_RPS);
    const expected = Math.ceil(LOAD_RPS / TARGET_RPS); // 4; one machine's count alone: ceil(9 / 5) = 2
    let last: ServiceRow | null = null;
    await waitFor(
      `web scaled to at least ${expected - 1} running tasks on ${LOAD_RPS} requests/s`,
      async () => {
        last = await web();
        return (last?.replicas ?? 0) >= expected - 1 && (await runningWeb()).length === last!.replicas;
      },
      45_000,
      () => `${logs()}\n${JSON.stringify(last)}`,
    );
    const up = (await web())!;
    // The leader's rate at its next 5 syncs under load (each node reports every 2 s, a sync is 1 s).
    const rates = new Map<number, number | null>();
    await waitFor(
      "the leader's rate at 5 syncs",
      async () => {
        const a = (await web())?.autoscale;
        if (a?.syncedAt != null && a.syncedAt > (up.autoscale?.syncedAt ?? 0))
          rates.set(a.syncedAt, a.metrics.find((m) => m.kind === 'rps')?.value ?? null);
        return rates.size >= 5;
      },
      20_000,
      logs,
    );
    const settled = (await web())!;
    const result = await running.stop();
    process.stdout.write(
      `rps load: ${JSON.stringify(result)}; scaled to ${up.replicas}: ${up.autoscale?.lastDecision?.reason}; ` +
        `the leader's rate at its next syncs: ${JSON.stringify([...rates.values()])}, then ${settled.replicas} tasks\n`,
    );
    // Both machines' proxies took their half of the load, and every request was answered.
    expect(result.failed).toBe(0);
    expect(result.skipped).toBe(0);
    for (const address of targets) expect(result.byTarget[address]).toBeGreaterThan(0);
    expect(up.replicas).toBeGreaterThanOrEqual(Math.max(2, expected - 1));
    expect(up.replicas).toBeLessThanOrEqual(Math.min(MAX, expected + 1));
    expect(up.autoscale?.lastDecision).toMatchObject({ to: up.replicas });
    // `rps 18.5 over 1 task, 5 per task → 4`: the leader asked for what both machines saw together.
    const reason = up.autoscale?.lastDecision?.reason ?? '';
    expect(reason).toMatch(new RegExp(`^rps \\d+(\\.\\d+)? over \\d tasks?, ${TARGET_RPS} per task → \\d+`));
    expect(Number(/→ (\d+)/.exec(reason)?.[1])).toBeGreaterThanOrEqual(expected - 1);
    // At every sync the leader's rate is the sum: more than one machine's share alone (half the
    // load), and not more than the load. So the count holds under load.
    expect(up.autoscale?.metrics.find((m) => m.kind === 'rps')).toMatchObject({ target: TARGET_RPS });
    for (const value of rates.values()) {
      expect(value).toBeGreaterThan(LOAD_RPS * 0.6);
      expect(value).toBeLessThan(LOAD_RPS * 1.4);
    }
    expect(settled.replicas).toBeGreaterThanOrEqual(up.replicas);

    // No requests: rps 0 asks for 0 tasks, floored at min, after the 3 s down window.
    await waitFor('web back at 1 task', async () => (await web())?.replicas === 1, 30_000, logs);
    const down = (await web())!;
    // (maybe in two steps: while one node's last report still held load, the window's highest was 2)
    expect(down.autoscale?.lastDecision?.to).toBe(1);
    expect(down.autoscale?.lastDecision?.reason).toMatch(
      new RegExp(`^rps \\d+(\\.\\d+)? over \\d tasks, ${TARGET_RPS} per task → [01]\\b`),
    );
    await waitFor('one running task of web', async () => (await runningWeb()).length === 1, 30_000, logs);
  });
});

function readTail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').slice(-12_000) : '(no log)';
}
