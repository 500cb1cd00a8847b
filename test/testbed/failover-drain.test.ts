/**
 * Drain, fencing and failover where each machine has its own Docker Engine (the test bed,
 * test/support/testbed.ts): what a shared engine can only pretend. A drained machine's engine
 * ends up with none of the service's containers and the others' engines run them; a machine cut
 * off from the quorum stops an `on_disconnect: stop` container on its own engine before another
 * engine starts the replacement; a machine whose agent dies keeps its containers running on its
 * engine, the replicas come back on the other engines, and when the agent returns it stops its
 * stale copies, so the service runs exactly once per replica across engines. One bed for the
 * file (about 10 s to bring up). Needs root and Docker (CI has both).
 */
import { jest } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { bootstrapCluster, makeAgents, waitFor, type AgentProcess } from '../agent/support/agents.js';
import { TestBed, testBedCanRun } from '../support/testbed.js';

jest.setTimeout(240_000);

const IMAGE = 'shoal-test/busybox:latest';
const GRACE_MS = 5_000;
const canRun = testBedCanRun('the failover and drain test bed');

interface TaskRow {
  readonly serviceId: string;
  readonly nodeId: string | null;
  readonly state: string;
  readonly desiredState: string;
}

/** A loop that exits at once on SIGTERM (busybox `sleep` as PID 1 would ignore it). */
const LOOP = `["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]`;

(canRun ? describe : describe.skip)('drain, fencing and failover on separate engines', () => {
  // Made in beforeAll, not here: a skipped describe still runs its body.
  let bed: TestBed;
  let agents: AgentProcess[] = [];
  let cleanup: () => Promise<void> = async () => undefined;
  let ids: string[] = [];
  const flags = ['--node-grace-ms', String(GRACE_MS)];
  const logs = () =>
    agents
      .map((a, i) => `[${a.name}]\n${a.output.slice(-1200)}\n[engine]\n${bed.nodes[i]!.engine.logTail(400)}`)
      .join('\n');
  /** Container ids of `service` on machine i's engine (running only, unless `all`). */
  const containers = (i: number, service: string, all = false) =>
    bed.nodes[i]!.engine.docker(['ps', '-q', ...(all ? ['-a'] : []), '--filter', `label=shoal.service.id=${service}`])
      .split('\n')
      .filter(Boolean);
  const runningPerEngine = (service: string) => [0, 1, 2].map((i) => containers(i, service).length);
  const tasks = async (agent: AgentProcess): Promise<TaskRow[]> => {
    const reply = await agent.api<TaskRow[]>('GET', '/v1/stacks/fo/tasks?stale=1').catch(() => null);
    return reply?.status === 200 ? reply.body : [];
  };
  const running = (rows: TaskRow[], service: string) =>
    rows.filter((t) => t.serviceId === service && t.state === 'running' && t.desiredState === 'running');
  const inspectTime = (i: number, container: string, field: 'StartedAt' | 'FinishedAt') =>
    Date.parse(bed.nodes[i]!.engine.docker(['inspect', '-f', `{{.State.${field}}}`, container]).trim());

  beforeAll(async () => {
    execFileSync('bash', ['scripts/build-test-image.sh', IMAGE], { stdio: 'ignore' });
    const made = makeAgents(3, 'shoal-tb-failover-');
    ({ agents, cleanup } = made);
    bed = TestBed.create(3, `${made.root}-bed`);
    await bed.up([IMAGE]);
    ({ ids } = await bootstrapCluster(agents, { flags, placeOf: (i) => bed.agentPlace(i) }));
    const compose = [
      'services:',
      '  web:',
      `    image: ${IMAGE}`,
      `    command: ${LOOP}`,
      '    deploy:',
      '      replicas: 3',
      '',
    ].join('\n');
    const deployed = await agents[0]!.api('POST', '/v1/stacks', { name: 'fo', compose, file: 'compose.yml' });
    expect(deployed.status).toBe(200);
    await waitFor(
      'one web replica per machine',
      async () => new Set(running(await tasks(agents[0]!), 'fo_web').map((t) => t.nodeId)).size === 3,
      60_000,
      logs,
    );
  });

  afterAll(async () => {
    await cleanup();
    await bed?.down();
  });

  it('node drain: the drained machine’s engine runs none of the replicas, the other engines run them all', async () => {
    expect(runningPerEngine('fo_web')).toEqual([1, 1, 1]);
    expect((await agents[0]!.cli(['node', 'drain', ids[1]!])).code).toBe(0);
    await waitFor(
      'web gone from n2’s engine and running on the others’',
      async () => {
        const perEngine = runningPerEngine('fo_web');
        const rows = running(await tasks(agents[0]!), 'fo_web');
        return perEngine[1] === 0 && perEngine[0]! + perEngine[2]! === 3 && rows.every((t) => t.nodeId !== ids[1]);
      },
      60_000,
      logs,
    );
    expect((await agents[0]!.cli(['node', 'activate', ids[1]!])).code).toBe(0);
  });

  it('a machine cut off from the quorum stops its on_disconnect: stop container before another engine starts the replacement', async () => {
    const compose = [
      'services:',
      '  web:',
      `    image: ${IMAGE}`,
      `    command: ${LOOP}`,
      '    deploy:',
      '      replicas: 3',
      '  db:',
      `    image: ${IMAGE}`,
      `    command: ${LOOP}`,
      '    stop_grace_period: 30s',
      '    x-shoal:',
      '      on_disconnect: stop',
      '',
    ].join('\n');
    expect((await agents[0]!.api('POST', '/v1/stacks', { name: 'fo', compose, file: 'compose.yml' })).status).toBe(200);
    let first: TaskRow | undefined;
    await waitFor('db running', async () => (first = running(await tasks(agents[0]!), 'fo_db')[0]) !== undefined);
    const victim = ids.indexOf(first!.nodeId!);
    const observer = agents[(victim + 1) % 3]!;
    await waitFor('db’s container on its machine’s engine', () => containers(victim, 'fo_db').length === 1);
    const old = containers(victim, 'fo_db')[0]!;
    bed.cut(victim);
    let now = -1;
    try {
      await waitFor(
        'db running on another machine',
        async () => {
          now = ids.indexOf(
            running(await tasks(observer), 'fo_db').find((t) => t.nodeId !== ids[victim])?.nodeId ?? '',
          );
          return now >= 0 && containers(now, 'fo_db').length === 1;
        },
        60_000,
        logs,
      );
    } finally {
      bed.heal(victim);
    }
    // The cut machine stopped its copy itself (it heard from no quorum), before the replacement
    // started on another engine: never two at once.
    const stoppedAt = inspectTime(victim, old, 'FinishedAt');
    const startedAt = inspectTime(now, containers(now, 'fo_db')[0]!, 'StartedAt');
    expect(containers(victim, 'fo_db')).toEqual([]);
    expect(stoppedAt).toBeGreaterThan(0); // it did stop (a running container's FinishedAt is year 1)
    expect(stoppedAt).toBeLessThan(startedAt);
    // Back in the cluster, the machine does not start its old copy again.
    await waitFor(
      'the cut machine ready again',
      async () => {
        const nodes = await observer.api<{ id: string; status: string }[]>('GET', '/v1/nodes').catch(() => null);
        return nodes?.body.find((n) => n.id === ids[victim])?.status === 'ready';
      },
      30_000,
      logs,
    );
    await waitFor(
      'db once, across engines',
      async () =>
        running(await tasks(agents[victim]!), 'fo_db').length === 1 &&
        runningPerEngine('fo_db').reduce((a, b) => a + b) === 1,
      30_000,
      logs,
    );
  });

  it('a machine whose agent dies: its replicas come back on the other engines, and on its return its stale containers are stopped', async () => {
    const rows = running(await tasks(agents[0]!), 'fo_web');
    // a machine that runs a web replica and does not lead (the leader's loss adds an election)
    const leader = (await agents[0]!.api<{ leader: string }>('GET', '/v1/status')).body.leader;
    const victim = ids.findIndex((id) => id !== leader && rows.some((t) => t.nodeId === id));
    expect(victim).toBeGreaterThanOrEqual(0);
    const stale = containers(victim, 'fo_web');
    expect(stale.length).toBeGreaterThan(0);
    const lost = agents[victim]!;
    await lost.kill('SIGKILL');
    const survivors = [0, 1, 2].filter((i) => i !== victim);
    const observer = agents[survivors[0]!]!;
    await waitFor(
      'web’s 3 replicas running on the other machines’ engines',
      async () => {
        const now = running(await tasks(observer), 'fo_web');
        const perEngine = runningPerEngine('fo_web');
        return (
          now.length === 3 &&
          now.every((t) => t.nodeId !== ids[victim]) &&
          perEngine[survivors[0]!]! + perEngine[survivors[1]!]! === 3
        );
      },
      60_000,
      logs,
    );
    // Its engine never stopped: the dead agent's containers still run there.
    expect(containers(victim, 'fo_web')).toEqual(stale);
    // The leader said so at warn level, with the node and why.
    const said = survivors
      .flatMap((i) => agents[i]!.output.split('\n'))
      .filter((line) => line.includes('marking node') && line.includes(ids[victim]!));
    expect(said.length).toBeGreaterThan(0);
    expect(JSON.parse(said[0]!)).toMatchObject({ level: 40, node: ids[victim], status: 'down' });

    const place = bed.agentPlace(victim);
    lost.start([...flags, ...place.flags], place.env, place.netns);
    await lost.waitForApi();
    // Rebalancing may then move a replica back to the returning machine: that is a new container,
    // so the check is that none of the stale ones runs, not that the engine runs none.
    await waitFor(
      'the returning machine’s stale copies stopped: 3 web containers across engines',
      () =>
        !containers(victim, 'fo_web').some((id) => stale.includes(id)) &&
        runningPerEngine('fo_web').reduce((a, b) => a + b) === 3,
      60_000,
      logs,
    );
    expect(running(await tasks(agents[0]!), 'fo_web')).toHaveLength(3);
  });
});
