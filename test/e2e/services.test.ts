/**
 * Services end to end: 3 real agents on loopback sharing this machine's Docker Engine, each
 * managing only the containers labelled with its node id. Deploy a Compose stack, a crashing
 * container restarted in place, scale, logs, and a bad file refused whole. What means something
 * only with an engine per machine (failover, fencing, drain) runs on the test bed:
 * test/testbed/failover-drain.test.ts and separate-engines.test.ts.
 */
import { jest } from '@jest/globals';
import { docker, prepareDocker, removeContainersOf } from './support.js';
import { bootstrapCluster, makeAgents, waitFor, type AgentProcess } from '../agent/support/agents.js';

jest.setTimeout(240_000);

interface TaskRow {
  name: string;
  nodeId: string | null;
  state: string;
  desiredState: string;
  restarts: number;
}

/** Running containers of a service, as the engine sees them. */
function runningContainers(serviceId: string, nodeId?: string): string[] {
  const filters = [
    '--filter',
    `label=shoal.service.id=${serviceId}`,
    ...(nodeId ? ['--filter', `label=shoal.node.id=${nodeId}`] : []),
  ];
  const out = docker('ps', '-q', ...filters);
  return out ? out.split('\n') : [];
}

async function tasks(agent: AgentProcess, service: string): Promise<TaskRow[]> {
  const reply = await agent.api<TaskRow[]>('GET', `/v1/services/${service}/tasks`);
  if (reply.status !== 200) throw new Error(`tasks of ${service}: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

const running = (rows: TaskRow[]) => rows.filter((t) => t.state === 'running' && t.desiredState === 'running');

describe('services on a 3-agent cluster with Docker', () => {
  const { agents, cleanup } = makeAgents(3, 'shoal-e2e-');
  const ids: string[] = [];
  const flags = ['--node-grace-ms', '3000'];

  beforeAll(async () => {
    prepareDocker();
    ids.push(...(await bootstrapCluster(agents, { flags })).ids);
  });

  afterAll(async () => {
    await cleanup();
    removeContainersOf(ids);
  });

  it('a bad Compose file is refused with every error listed and nothing deployed', async () => {
    const bad =
      'services:\n  api:\n    image: shoal-test/busybox:latest\n    deploy:\n      replicas: three\n  db:\n    imagee: x\n';
    const reply = await agents[1]!.api<{ error: { code: string; message: string } }>('POST', '/v1/stacks', {
      name: 'bad',
      compose: bad,
      file: 'compose.yml',
    });
    expect(reply.status).toBe(400);
    expect(reply.body.error.message).toMatch(/compose\.yml:5 services\.api\.deploy\.replicas/);
    expect(reply.body.error.message).toMatch(/compose\.yml:7 services\.db\.imagee/);
    const stacks = await agents[0]!.api<unknown[]>('GET', '/v1/stacks');
    expect(stacks.body).toEqual([]);
  });

  it('stack deploy runs 3 replicas spread over the nodes and a global service on every node', async () => {
    const run = await agents[1]!.cli(['stack', 'deploy', '-f', 'examples/web/compose.yml', '--name', 'web']);
    // The test image is local to this engine: the deploy pins it to its image id and says so.
    expect(run.stderr.split('\n').filter((l) => l !== '' && !/is not in a registry/.test(l))).toEqual([]);
    expect(run.code).toBe(0);
    await waitFor(
      '3 web replicas and 3 global tasks running',
      async () =>
        running(await tasks(agents[0]!, 'web_web')).length === 3 &&
        running(await tasks(agents[0]!, 'web_agent')).length === 3,
      60_000,
    );
    const nodes = new Set(running(await tasks(agents[0]!, 'web_web')).map((t) => t.nodeId));
    expect(nodes.size).toBe(3);
    expect(runningContainers('web_web')).toHaveLength(3);
  });

  it('redeploying the unchanged file changes nothing', async () => {
    const run = await agents[2]!.cli([
      'stack',
      'deploy',
      '-f',
      'examples/web/compose.yml',
      '--name',
      'web',
      '-o',
      'json',
    ]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { services: { change: string }[] };
    expect(result.services.map((s) => s.change)).toEqual(['unchanged', 'unchanged']);
  });

  it('a crashing container is restarted in place by the restart policy', async () => {
    const victim = runningContainers('web_web', ids[2])[0]!;
    docker('kill', victim);
    await waitFor(
      'the container to run again',
      () => docker('inspect', '-f', '{{.State.Running}}', victim) === 'true',
      30_000,
    );
    await waitFor(
      'the restart to be reported',
      async () => (await tasks(agents[0]!, 'web_web')).some((t) => t.nodeId === ids[2] && t.restarts >= 1),
      20_000,
    );
  });

  it('service scale and service logs', async () => {
    expect((await agents[2]!.cli(['service', 'scale', 'web_web=5'])).code).toBe(0);
    await waitFor('5 replicas', async () => running(await tasks(agents[0]!, 'web_web')).length === 5, 60_000);
    expect(runningContainers('web_web')).toHaveLength(5);
    const logs = await agents[0]!.cli(['service', 'logs', 'web_agent']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/agent alive on/);
  });

  it('services of a stack on one node reach each other by service name (stack network)', async () => {
    const compose = [
      'services:',
      '  api:',
      '    image: shoal-test/busybox:latest',
      '    command: ["sh", "-c", "mkdir -p /www && echo pong > /www/ping && exec httpd -f -p 8080 -h /www"]',
      `    deploy: { placement: { constraints: ["node.id==${ids[0]}"] } }`,
      '  client:',
      '    image: shoal-test/busybox:latest',
      '    command: ["sh", "-c", "while true; do wget -q -O - http://api:8080/ping; sleep 1; done"]',
      `    deploy: { placement: { constraints: ["node.id==${ids[0]}"] } }`,
      '',
    ].join('\n');
    const deployed = await agents[0]!.api('POST', '/v1/stacks', { name: 'net', compose, file: 'compose.yml' });
    expect(deployed.status).toBe(200);
    await waitFor(
      'the client to reach the api by name',
      async () => (await agents[1]!.cli(['service', 'logs', 'net_client'])).stdout.includes('pong'),
      60_000,
    );
    // The client's shell loop ignores SIGTERM (Docker's 10 s stop grace): no need to wait for it.
    expect((await agents[1]!.cli(['stack', 'rm', 'net', '--detach'])).code).toBe(0);
  });

  it('stack rm stops and removes every container of the stack', async () => {
    expect((await agents[1]!.cli(['stack', 'rm', 'web'])).code).toBe(0);
    await waitFor(
      'no container left',
      () => runningContainers('web_web').length === 0 && runningContainers('web_agent').length === 0,
      60_000,
    );
  });
});
