/**
 * Three machines on this one (test/support/testbed.ts): each node a network namespace with its
 * own Docker Engine and its own agent. What this proves that a shared engine cannot: each node's
 * containers run on its own engine; a published port answers at that node's address from
 * another machine; when a machine dies (agent killed, engine stopped), its replica comes back on
 * another machine's engine. Needs root and Docker (CI has both).
 */
import { jest } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE, BUNDLE, waitFor } from '../agent/support/agents.js';
import { TestBed, testBedCanRun } from '../support/testbed.js';
import { formCluster } from '../support/testbed-cluster.js';

jest.setTimeout(240_000);

const IMAGE = 'shoal-test/busybox:latest';
const canRun = testBedCanRun('the separate engines test bed');

interface TaskRow {
  readonly serviceId: string;
  readonly nodeId: string | null;
  readonly state: string;
  readonly desiredState: string;
}

(canRun ? describe : describe.skip)('a cluster of separate machines (own namespaces and engines)', () => {
  // Made in beforeAll, not here: a skipped describe still runs its body.
  let root = '';
  let bed: TestBed;
  const ids: string[] = [];
  const logs = () =>
    bed.nodes
      .map(
        (n) => `[n${n.index + 1}]\n${readTail(join(n.dataDir, '..', 'agent.log'))}\n[engine]\n${n.engine.logTail(800)}`,
      )
      .join('\n');
  const containers = (i: number, service: string) =>
    bed.nodes[i]!.engine.docker(['ps', '-q', '--filter', `label=shoal.service.id=${service}`])
      .split('\n')
      .filter(Boolean);
  const fetchFrom = (from: number, to: number) =>
    execFileSync(
      'nsenter',
      [
        `--net=/run/netns/${bed.nodes[from]!.host.name}`,
        '--',
        'wget',
        '-qO-',
        '-T',
        '3',
        `http://${bed.nodes[to]!.host.address}:8080/`,
      ],
      { encoding: 'utf8' },
    );

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'shoal-testbed-'));
    bed = TestBed.create(3, root);
    execFileSync('bash', ['scripts/build-test-image.sh', IMAGE], { stdio: 'ignore' });
    await bed.up([IMAGE]);
    const flags = ['--tick-ms', '50', '--node-grace-ms', '4000'];
    ids.push(...(await formCluster(bed, flags, logs)));
  });

  afterAll(async () => {
    await bed?.down();
  });

  it('runs each node’s tasks on its own engine and publishes their ports at its address', async () => {
    const compose = join(root, 'web.yml');
    writeFileSync(
      compose,
      [
        'services:',
        '  web:',
        `    image: ${IMAGE}`,
        '    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]',
        '    ports: ["8080:8080"]',
        '    deploy:',
        '      replicas: 3',
        '      placement:',
        '        max_replicas_per_node: 1',
        '  solo:',
        `    image: ${IMAGE}`,
        '    command: ["sleep", "3600"]',
        '',
      ].join('\n'),
    );
    const deploy = execFileSync(NODE, [BUNDLE, 'stack', 'deploy', '-f', compose, 'tb'], {
      env: { ...process.env, SHOAL_ADDR: `unix://${bed.nodes[0]!.socket}` },
      encoding: 'utf8',
    });
    expect(deploy).toContain('Creating service tb_web');
    await waitFor(
      'one running replica per node',
      async () => {
        const tasks = (await bed.api<TaskRow[]>(0, '/v1/stacks/tb/tasks')) ?? [];
        const running = tasks.filter((t) => t.state === 'running' && t.serviceId === 'tb_web');
        return running.length === 3 && new Set(running.map((t) => t.nodeId)).size === 3;
      },
      60_000,
      logs,
    );
    // Each engine holds exactly its node's container: nothing is shared.
    expect([0, 1, 2].map((i) => containers(i, 'tb_web').length)).toEqual([1, 1, 1]);
    // Machine 2 reaches the port that machine 1 publishes, across the namespaces' links.
    expect(fetchFrom(1, 0)).toContain('shoal test page');
    expect(fetchFrom(0, 2)).toContain('shoal test page');
  });

  it('brings a dead machine’s task back on another machine’s engine', async () => {
    const solo = (tasks: TaskRow[]) => tasks.filter((t) => t.serviceId === 'tb_solo' && t.state === 'running');
    let victim = -1;
    await waitFor('the solo task running', async () => {
      const node = solo((await bed.api<TaskRow[]>(0, '/v1/stacks/tb/tasks')) ?? [])[0]?.nodeId;
      victim = ids.indexOf(node ?? '');
      return victim >= 0;
    });
    expect(containers(victim, 'tb_solo')).toHaveLength(1);
    // The machine dies: its agent is killed and its engine (with its containers) stops. When it
    // led, the others elect a new leader first.
    bed.killAgent(victim);
    await bed.nodes[victim]!.engine.stop();
    const survivor = victim === 0 ? 1 : 0;
    let now = -1;
    await waitFor(
      'the task running on another machine',
      async () => {
        const running = solo((await bed.api<TaskRow[]>(survivor, '/v1/stacks/tb/tasks')) ?? []);
        now = ids.indexOf(running.find((t) => t.desiredState === 'running')?.nodeId ?? '');
        return now >= 0 && now !== victim;
      },
      90_000,
      logs,
    );
    expect(containers(now, 'tb_solo')).toHaveLength(1);
  });
});

function readTail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').slice(-1500) : '(no log)';
}
