/**
 * Scale to zero on two separate machines (test/support/testbed.ts, agents with `--mesh`): `web`
 * (min: 0, idle 5 s, placed off n1) goes to zero tasks when nobody connects; the next request, on
 * n1's published port, is held while n1 asks the leader to wake it, its task starts on n2, and
 * the request gets the whole page, the same as a warm one. The scale-up's reason names the node
 * that held the connection. Needs root and Docker (CI has both): skipped with a message otherwise.
 */
import { jest } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE, BUNDLE, waitFor } from '../agent/support/agents.js';
import { TestBed, testBedCanRun } from '../support/testbed.js';
import { formCluster } from '../support/testbed-cluster.js';

jest.setTimeout(180_000);

const IMAGE = 'shoal-test/busybox:latest';
const canRun = testBedCanRun('the scale-to-zero test bed');

interface TaskRow {
  readonly serviceId: string;
  readonly nodeId: string | null;
  readonly state: string;
  readonly desiredState: string;
}
interface ServiceRow {
  readonly replicas: number;
  readonly autoscale?: { readonly lastDecision: { from: number; to: number; reason: string } | null };
}

const COMPOSE = [
  'services:',
  '  web:',
  `    image: ${IMAGE}`,
  '    command: ["httpd", "-f", "-p", "80", "-h", "/www"]',
  '    ports: ["8080:80"]',
  '    stop_grace_period: 1s', // busybox httpd ignores SIGTERM: do not wait 10 s for each stop
  '    deploy:',
  '      placement:',
  '        constraints: ["node.hostname != n1"]',
  '    x-shoal:',
  '      autoscale: {min: 0, max: 2, target_cpu: 80, sync_period: 1s, idle: 5s, cold_start_timeout: 60s}',
  '',
].join('\n');

(canRun ? describe : describe.skip)('scale to zero across separate machines', () => {
  let dir = '';
  let bed: TestBed;
  const ids: string[] = [];
  const logs = () =>
    bed.nodes.map((n) => `[n${n.index + 1}]\n${readTail(join(n.dataDir, '..', 'agent.log'))}`).join('\n');
  const running = async () =>
    ((await bed.api<TaskRow[]>(0, '/v1/stacks/tb/tasks')) ?? []).filter(
      (t) => t.serviceId === 'tb_web' && t.state === 'running' && t.desiredState === 'running',
    );
  /** Tasks of web not yet ended (the list leaves ended tasks out). */
  const tasksOfWeb = async () =>
    ((await bed.api<TaskRow[]>(0, '/v1/stacks/tb/tasks')) ?? []).filter((t) => t.serviceId === 'tb_web');
  const web = async () => bed.api<ServiceRow>(0, '/v1/services/tb_web');
  /** GET n1's published port from n1's own namespace: a node that runs no task of web. */
  const get = (): string => {
    try {
      return execFileSync(
        'nsenter',
        [`--net=/run/netns/${bed.nodes[0]!.host.name}`, '--', 'wget', '-qO-', '-T', '60', '-t', '1'].concat(
          `http://${bed.nodes[0]!.host.address}:8080/`,
        ),
        { encoding: 'utf8' },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${logs()}`);
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-zero-bed-'));
    bed = TestBed.create(2, dir);
    execFileSync('bash', ['scripts/build-test-image.sh', IMAGE], { stdio: 'ignore' });
    await bed.up([IMAGE]);
    const flags = ['--tick-ms', '50', '--node-grace-ms', '3000', '--mesh'];
    ids.push(...(await formCluster(bed, flags, logs)));
    const compose = join(dir, 'tb.yml');
    writeFileSync(compose, COMPOSE);
    execFileSync(NODE, [BUNDLE, 'stack', 'deploy', '-f', compose, 'tb'], {
      env: { ...process.env, SHOAL_ADDR: `unix://${bed.nodes[0]!.socket}` },
      encoding: 'utf8',
    });
  });

  afterAll(async () => {
    await bed?.down();
  });

  it('goes to zero tasks after idle, and answers the next request in full through a cold start', async () => {
    await waitFor('web at zero after 5 s idle', async () => (await web())?.replicas === 0, 60_000, logs);
    expect((await web())?.autoscale?.lastDecision?.reason).toMatch(
      /^idle: no connection through the service mesh for \d+ s → 0$/,
    );
    // Its task stopped (after its stop grace: busybox httpd ignores SIGTERM).
    await waitFor('its task gone', async () => (await tasksOfWeb()).length === 0, 30_000, logs);

    const started = performance.now();
    const cold = get(); // held on n1 while web wakes on n2
    process.stdout.write(`cold start through n1's published port: ${Math.round(performance.now() - started)} ms\n`);
    expect(cold).toBe('shoal test page\n');
    expect(await web()).toMatchObject({
      replicas: 1,
      autoscale: { lastDecision: { from: 0, to: 1, reason: `cold start: connection on ${ids[0]}` } },
    });
    expect((await running()).map((t) => t.nodeId)).toEqual([ids[1]]);
    expect(get()).toBe(cold); // warm: the same answer
  });
});

function readTail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').slice(-12_000) : '(no log)';
}
