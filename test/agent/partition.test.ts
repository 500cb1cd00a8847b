/**
 * Node failure detection under real partitions: three agents in their own network namespaces on
 * a bridge, a node's link taken down with no TCP reset (a pulled cable). A cut shorter than the
 * node grace must move nothing; a longer one moves the node's replicas.
 */
import { jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetBed } from '../support/netbed.js';
import { bootstrapCluster, makeAgents, waitFor, type AgentProcess } from './support/agents.js';

jest.setTimeout(180_000);

interface TaskRow {
  readonly id: string;
  readonly nodeId: string | null;
  readonly state: string;
  readonly desiredState: string;
}

const GRACE_MS = 5_000;
/** The tasks' command, unique to this run so that what it leaves behind can be found. */
const SLEEP = `3599.${Math.floor(Math.random() * 1e6)}`;
const alive = (): boolean => spawnSync('pgrep', ['-f', `sleep ${SLEEP}`]).status === 0;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function webTasks(agent: AgentProcess): Promise<TaskRow[]> {
  const reply = await agent.api<TaskRow[]>('GET', '/v1/stacks/part/tasks?stale=1');
  return reply.status === 200 ? reply.body : [];
}

describe('partitions between agents in separate network namespaces', () => {
  const bed = new NetBed(3);
  const { agents, cleanup } = makeAgents(3, 'shoal-it-part-');
  const files = mkdtempSync(join(tmpdir(), 'shoal-part-'));
  let ids: string[] = [];

  beforeAll(async () => {
    bed.up();
    ({ ids } = await bootstrapCluster(agents, {
      flags: ['--runtime', 'process', '--node-grace-ms', String(GRACE_MS)],
      placeOf: (i) => ({ flags: ['--listen', `/ip4/${bed.hosts[i]!.address}/tcp/7946`], netns: bed.hosts[i]!.name }),
    }));
    const compose = join(files, 'compose.yml');
    writeFileSync(
      compose,
      [
        'services:',
        '  web:',
        `    command: ["sleep", "${SLEEP}"]`,
        '    x-shoal:',
        '      runtime: process',
        '    deploy:',
        '      replicas: 3',
        '      placement:',
        '        max_replicas_per_node: 1',
        '',
      ].join('\n'),
    );
    const deploy = await agents[0]!.cli(['stack', 'deploy', '-f', compose, '--name', 'part']);
    expect(deploy.code).toBe(0);
    await waitFor(
      'three running replicas, one per node',
      async () => {
        const rows = (await webTasks(agents[0]!)).filter((t) => t.state === 'running');
        return rows.length === 3 && new Set(rows.map((t) => t.nodeId)).size === 3;
      },
      60_000,
    );
  });

  afterAll(async () => {
    // host-process tasks outlive their agent by design: remove the stack before the agents go
    await agents[0]!.cli(['stack', 'rm', 'part']).catch(() => undefined);
    await waitFor("the stack's processes to end", () => !alive(), 20_000).catch(() => undefined);
    await cleanup();
    if (alive()) spawnSync('pkill', ['-f', `sleep ${SLEEP}`]);
    bed.down();
    rmSync(files, { recursive: true, force: true });
  });

  it('a cut shorter than the node grace moves nothing', async () => {
    const before = await webTasks(agents[0]!);
    const victim = 2;
    bed.cut(victim);
    await sleep(GRACE_MS - 1_500);
    bed.heal(victim);
    // long enough for the leader to have moved them, had it decided to
    await sleep(GRACE_MS + 2_000);
    const after = await webTasks(agents[0]!);
    expect(after.map((t) => [t.id, t.nodeId, t.desiredState])).toEqual(
      before.map((t) => [t.id, t.nodeId, t.desiredState]),
    );
    expect(after.filter((t) => t.nodeId === ids[victim] && t.state === 'running')).toHaveLength(1);
  });

  it('a cut longer than the grace: an on_disconnect: stop service is stopped on the cut node before its replacement starts', async () => {
    const log = join(files, 'db.log');
    const compose = join(files, 'db.yml');
    // each run appends "start|stop <pid> <ns>" to a file all namespaces share (one filesystem)
    const script =
      `trap 'echo stop $$ $(date +%s%N) >> ${log}; exit 0' TERM; echo start $$ $(date +%s%N) >> ${log}; ` +
      `while :; do sleep ${SLEEP}; done`;
    writeFileSync(
      compose,
      [
        'services:',
        '  db:',
        `    command: ["sh", "-c", ${JSON.stringify(script)}]`,
        '    stop_grace_period: 30s',
        '    x-shoal:',
        '      runtime: process',
        '      on_disconnect: stop',
        '',
      ].join('\n'),
    );
    expect((await agents[0]!.cli(['stack', 'deploy', '-f', compose, '--name', 'fence'])).code).toBe(0);
    const dbTasks = async (agent: AgentProcess) =>
      (await agent.api<TaskRow[]>('GET', '/v1/stacks/fence/tasks?stale=1')).body ?? [];
    let first: TaskRow | undefined;
    await waitFor(
      'db running',
      async () => {
        first = (await dbTasks(agents[0]!)).find((t) => t.state === 'running');
        return first !== undefined;
      },
      60_000,
    );
    const victim = ids.indexOf(first!.nodeId!);
    const observer = agents[(victim + 1) % 3]!;
    bed.cut(victim);
    try {
      await waitFor(
        'a replacement running on another node',
        async () => (await dbTasks(observer)).some((t) => t.state === 'running' && t.nodeId !== ids[victim]),
        30_000,
      );
    } finally {
      bed.heal(victim);
    }
    const events = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(' '))
      .map(([what, pid, ns]) => ({ what: what!, pid: pid!, at: BigInt(ns!) }));
    const starts = events.filter((e) => e.what === 'start');
    expect(starts.length).toBe(2);
    const stopOfFirst = events.find((e) => e.what === 'stop' && e.pid === starts[0]!.pid);
    // the cut node stopped its copy itself, before the replacement started: never two at once
    expect(stopOfFirst).toBeDefined();
    expect(stopOfFirst!.at < starts[1]!.at).toBe(true);
    await agents[0]!.cli(['stack', 'rm', 'fence']);
  });
});
