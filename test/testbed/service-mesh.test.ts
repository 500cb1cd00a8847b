/**
 * The service mesh on three separate machines (test/support/testbed.ts: each node its own
 * network namespace, Docker Engine and agent, run with `--mesh`). A `client` container on n1
 * reaches `web`, which runs on another machine, by name; the port `web` publishes answers on n1,
 * which runs no task of it, and a machine where something else holds that port says so in its
 * node record; when web's machine dies, its task comes back elsewhere and the name follows. Needs root and Docker (CI has both): skipped with a message otherwise.
 */
import { jest } from '@jest/globals';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE, BUNDLE, waitFor } from '../agent/support/agents.js';
import { TestBed, testBedCanRun } from '../support/testbed.js';
import { formCluster } from '../support/testbed-cluster.js';

jest.setTimeout(240_000);

const IMAGE = 'shoal-test/busybox:latest';
const canRun = testBedCanRun('the service mesh test bed');

interface NodeRow {
  readonly id: string;
  readonly message?: string;
}
interface TaskRow {
  readonly serviceId: string;
  readonly nodeId: string | null;
  readonly state: string;
  readonly desiredState: string;
}

const COMPOSE = [
  'services:',
  '  web:',
  `    image: ${IMAGE}`,
  '    command: ["httpd", "-f", "-p", "80", "-h", "/www"]',
  '    ports: ["8080:80"]',
  '    deploy:',
  '      placement:',
  '        constraints: ["node.hostname != n1"]',
  '  client:',
  `    image: ${IMAGE}`,
  '    command: ["sleep", "3600"]',
  '    deploy:',
  '      placement:',
  '        constraints: ["node.hostname == n1"]',
  '',
].join('\n');

(canRun ? describe : describe.skip)('the service mesh across separate machines', () => {
  let dir = '';
  let bed: TestBed;
  let squatter: ChildProcess | null = null;
  const ids: string[] = [];
  const logs = () =>
    bed.nodes
      .map(
        (n) => `[n${n.index + 1}]\n${readTail(join(n.dataDir, '..', 'agent.log'))}\n[engine]\n${n.engine.logTail(500)}`,
      )
      .join('\n');
  const tasks = async (i: number) => (await bed.api<TaskRow[]>(i, '/v1/stacks/tb/tasks')) ?? [];
  const runningOn = (rows: TaskRow[], service: string) =>
    rows.find((t) => t.serviceId === service && t.state === 'running' && t.desiredState === 'running')?.nodeId;
  /** `wget -qO- URL` in the client container on n1 (busybox's -T crashes in the test image: a bound here instead). */
  const fromClient = (url: string): Promise<string> => {
    const engine = bed.nodes[0]!.engine;
    const client = engine.docker(['ps', '-q', '--filter', 'label=shoal.service.id=tb_client']).trim();
    return new Promise((resolve) =>
      execFile(
        'docker',
        ['exec', client, 'wget', '-qO-', url],
        { timeout: 5_000, encoding: 'utf8', env: { ...process.env, DOCKER_HOST: engine.dockerHost } },
        (err, stdout) => resolve(err === null ? stdout : `failed: ${err.message}`),
      ),
    );
  };
  /** GET port 8080 of node `to` from node `from`'s namespace (the host's wget). */
  const published = (from: number, to: number): string => {
    try {
      return execFileSync(
        'nsenter',
        [`--net=/run/netns/${bed.nodes[from]!.host.name}`, '--', 'wget', '-qO-', '-T', '3', '-t', '1'].concat(
          `http://${bed.nodes[to]!.host.address}:8080/`,
        ),
        { encoding: 'utf8' },
      );
    } catch (err) {
      return `failed: ${(err as Error).message}`;
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-mesh-bed-'));
    bed = TestBed.create(3, dir);
    execFileSync('bash', ['scripts/build-test-image.sh', IMAGE], { stdio: 'ignore' });
    await bed.up([IMAGE]);
    const flags = ['--tick-ms', '50', '--node-grace-ms', '3000', '--mesh'];
    ids.push(...(await formCluster(bed, flags, logs)));
    // Something else holds port 8080 on n3 before web publishes it.
    squatter = spawn('nsenter', [`--net=/run/netns/${bed.nodes[2]!.host.name}`, '--', NODE, '-e', SQUATTER], {
      stdio: 'ignore',
    });
    await waitFor('the squatter on n3', () => published(0, 2).includes('squatter'), 10_000);
    const compose = join(dir, 'tb.yml');
    writeFileSync(compose, COMPOSE);
    execFileSync(NODE, [BUNDLE, 'stack', 'deploy', '-f', compose, 'tb'], {
      env: { ...process.env, SHOAL_ADDR: `unix://${bed.nodes[0]!.socket}` },
      encoding: 'utf8',
    });
    await waitFor(
      'web and client running',
      async () => {
        const rows = await tasks(0);
        return runningOn(rows, 'tb_web') !== undefined && runningOn(rows, 'tb_client') === ids[0];
      },
      60_000,
      logs,
    );
  });

  afterAll(async () => {
    squatter?.kill('SIGKILL');
    await bed?.down();
  });

  it('a client on one machine reaches a service on another by its name', async () => {
    const web = ids.indexOf(runningOn(await tasks(0), 'tb_web') ?? '');
    expect(web).toBeGreaterThan(0); // placed off n1, where the client runs
    expect(bed.nodes[0]!.engine.docker(['ps', '-q', '--filter', 'label=shoal.service.id=tb_web']).trim()).toBe('');
    let page = '';
    await waitFor(
      'http://web/ from the client',
      async () => (page = await fromClient('http://web/')).includes('shoal test page'),
      20_000,
      () => `${page}\n${logs()}`,
    );
    expect(await fromClient('http://web.tb/')).toContain('shoal test page');
  });

  it('answers the published port on a machine that runs no task of the service', async () => {
    let page = '';
    await waitFor(
      'port 8080 on n1',
      async () => (page = published(1, 0)).includes('shoal test page'),
      20_000,
      () => `${page}\n${logs()}`,
    );
    expect(published(0, 1)).toContain('shoal test page');
  });

  it('says so in the node record of a machine where the published port is taken', async () => {
    expect(published(0, 2)).toContain('squatter');
    let message = '';
    await waitFor(
      'n3 to report the port it cannot listen on',
      async () => {
        const nodes = (await bed.api<NodeRow[]>(0, '/v1/nodes')) ?? [];
        message = nodes.find((n) => n.id === ids[2])?.message ?? '';
        return message !== '';
      },
      10_000,
      logs,
    );
    expect(message).toMatch(/cannot listen on 0\.0\.0\.0:8080 for service tb_web: .*EADDRINUSE/);
  });

  it('follows the task when its machine dies: the name reaches it on its new machine', async () => {
    const victim = ids.indexOf(runningOn(await tasks(0), 'tb_web') ?? '');
    expect(victim).toBeGreaterThan(0);
    bed.killAgent(victim);
    await bed.nodes[victim]!.engine.stop();
    const survivor = 3 - victim; // the other node that may run web (n1 may not)
    await waitFor(
      'web running on the other machine',
      async () => runningOn(await tasks(0), 'tb_web') === ids[survivor],
      60_000,
      logs,
    );
    let page = '';
    await waitFor(
      'http://web/ from the client again',
      async () => (page = await fromClient('http://web/')).includes('shoal test page'),
      20_000,
      () => `${page}\n${logs()}`,
    );
  });
});

/** An HTTP server that answers "squatter" on port 8080. */
const SQUATTER = "require('node:http').createServer((q, s) => s.end('squatter')).listen(8080)";

function readTail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').slice(-2500) : '(no log)';
}
