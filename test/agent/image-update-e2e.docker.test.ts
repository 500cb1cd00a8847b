/**
 * Automatic image updates end to end (issue 15 item 6): Debian's docker-registry on loopback, one
 * real agent with `--mesh` on this machine's Docker Engine, and `web` (busybox httpd answering its
 * version, 2 replicas, health check on /healthz, `x-shoal.image_update: {interval: 5s}`, start-first,
 * failure_action rollback) published on a port. v1 is pushed and deployed; v2, whose image has no
 * /healthz, is pushed under the same tag: the watch rolls it out by itself, its task never becomes
 * healthy, the rollout rolls back to v1's digest and v2's digest is marked bad (not tried again);
 * v3 is pushed and rolls out by itself. A load of fresh connections runs through the published
 * port (the mesh's ingress listener) and by name (the virtual IP, from a client container) from v1
 * to v3: no request may fail, v1 and v3 must both answer, and v2 (never healthy) never.
 * Needs root (the mesh), Docker and docker-registry: skipped with a message otherwise.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { answers, startLoad } from '../../bench/rollout-load.js';
import { IMAGE, requireDocker } from '../runtime/docker-harness.js';
import { registryUnavailable, removeRepositoryImages, startRegistry, type TestRegistry } from '../support/registry.js';
import { bootstrapCluster, makeAgents, waitFor, type AgentProcess } from './support/agents.js';
import { freePort } from '../support/free-port.js';

const run = promisify(execFile);
const root = process.getuid?.() === 0;
const dockerd = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].some((p) => existsSync(p));
const missing =
  process.env.SHOAL_SKIP_DOCKER === '1'
    ? 'SHOAL_SKIP_DOCKER=1'
    : (registryUnavailable() ??
      (root ? null : 'the service mesh needs root') ??
      (dockerd ? null : 'no dockerd: install and start one with `bash scripts/ensure-docker.sh`'));
if (missing) console.warn(`image-update-e2e.docker.test.ts skipped: ${missing}`);
const describeWithAll = missing ? describe.skip : describe;

const STACK = 'imgupd';
const SERVICE = `${STACK}_web`;
const REPLICAS = 2;
const PORT = 8080;
/** The local builds, kept between runs like bench:rollout's (the registry's tags are removed). */
const BUILT = 'shoal-test/image-update-e2e';

interface TaskRow {
  readonly state: string;
  readonly desiredState: string;
  readonly containerId?: string | null;
}
interface ServiceRow {
  readonly image: string;
  readonly version: number;
  readonly update?: { readonly state: string; readonly toVersion: number; readonly reason: string };
}
interface EventRow {
  readonly index?: number;
  readonly action: string;
  readonly message: string;
}

/**
 * busybox httpd serving its version at / and, when healthy, at /healthz (the health check's
 * path); it stops at once on SIGTERM (a shell as PID 1 would ignore it).
 */
async function buildVersion(version: string, healthy: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-image-update-'));
  try {
    writeFileSync(
      join(dir, 'Dockerfile'),
      [
        `FROM ${IMAGE}`,
        `RUN mkdir -p /srv && echo ${version} > /srv/index.html${healthy ? ' && echo ok > /srv/healthz' : ''}`,
        `CMD ["sh", "-c", "trap 'kill $p; exit 0' TERM; httpd -f -p ${PORT} -h /srv & p=$!; wait"]`,
        '',
      ].join('\n'),
    );
    await run('docker', ['build', '-q', '-t', `${BUILT}:${version}`, dir], { timeout: 120_000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function compose(image: string, port: number): string {
  return [
    'services:',
    '  web:',
    `    image: ${image}`,
    '    stop_grace_period: 2s',
    '    healthcheck:',
    `      test: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:${PORT}/healthz || exit 1"]`,
    '      interval: 1s',
    '      timeout: 1s',
    '      retries: 2',
    '    ports:',
    `      - { target: ${PORT}, published: ${port} }`,
    '    x-shoal:',
    '      image_update: {interval: 5s}',
    '    deploy:',
    `      replicas: ${REPLICAS}`,
    '      update_config: {parallelism: 1, order: start-first, failure_action: rollback, monitor: 3s}',
    '      rollback_config: {parallelism: 1, order: start-first, monitor: 3s}',
    '  client:',
    `    image: ${IMAGE}`,
    '    command: ["sleep", "3600"]',
    '    stop_grace_period: 1s',
    '',
  ].join('\n');
}

/**
 * The load by name, in the client container: a GET of http://web:8080/ (the service's virtual IP,
 * a new connection each) every 100 ms until /tmp/stop exists; prints each answer, or `failed`.
 * busybox wget's own -T crashes in the test image: `timeout` bounds it instead.
 */
const CLIENT_LOAD = `rm -f /tmp/stop; while [ ! -e /tmp/stop ]; do timeout 3 wget -qO- http://web:${PORT}/ || echo failed; sleep 0.1; done`;

describeWithAll('automatic image updates end to end: registry, real agent, mesh, load', () => {
  let docker: Docker;
  let registry: TestRegistry | undefined;
  let agent: AgentProcess | undefined;
  let cleanupAgents: (() => Promise<void>) | undefined;
  let hadShoal0 = true;
  let port = 0;
  let repo = '';
  let tag = '';
  const imageIds: Record<string, string> = {};
  const digests: Record<string, string> = {};
  const log = () => agent?.output ?? '';
  /** Ends the loads when the test failed before it stopped them. */
  let stopLoads: (() => Promise<void>) | undefined;

  /** Tags the local build of `version` as the watched tag and pushes it; its digest in the registry. */
  const push = async (version: string): Promise<string> => {
    await run('docker', ['tag', `${BUILT}:${version}`, tag]);
    await run('docker', ['push', '-q', tag], { timeout: 120_000 });
    const pushed = await docker.getImage(tag).inspect();
    const digest = pushed.RepoDigests.find((d) => d.startsWith(`${repo}@`))?.slice(repo.length + 1);
    if (digest === undefined) throw new Error(`no digest of ${repo} in ${JSON.stringify(pushed.RepoDigests)}`);
    return digest;
  };
  const service = async () => (await agent!.api<ServiceRow>('GET', `/v1/services/${SERVICE}?stale=1`)).body;
  /** The image ids of the containers of the tasks wanted running that run (healthy), or null. */
  const runningImages = async (): Promise<string[] | null> => {
    const reply = await agent!.api<TaskRow[]>('GET', `/v1/services/${SERVICE}/tasks?stale=1`).catch(() => null);
    if (reply?.status !== 200) return null;
    const containers = await docker.listContainers({ filters: { label: [`shoal.stack=${STACK}`] } });
    const imageOf = new Map(containers.map((c) => [c.Id, c.ImageID]));
    const wanted = reply.body.filter((t) => t.desiredState === 'running');
    if (wanted.some((t) => t.state !== 'running')) return null;
    return wanted.map((t) => imageOf.get(t.containerId ?? '') ?? 'none');
  };
  /** Every replica runs the image of `version`, healthy, and nothing else is wanted. */
  const allOn = async (version: string) => {
    const images = await runningImages();
    return images !== null && images.length === REPLICAS && images.every((id) => id === imageIds[version]);
  };
  const events = async (): Promise<EventRow[]> => {
    const reply = await agent!.api<unknown>('GET', `/v1/events?type=service&name=${SERVICE}`);
    if (reply.status !== 200) throw new Error(`GET /v1/events: HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
    // NDJSON: the client parses a single line as JSON and keeps several as text.
    if (typeof reply.body !== 'string') return reply.body === null ? [] : [reply.body as EventRow];
    return reply.body
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as EventRow)
      .filter((e) => e.index !== undefined);
  };
  /** Starts {@link CLIENT_LOAD} in the client container; `stop()` ends it and counts the answers. */
  const startClientLoad = async () => {
    const [client] = await docker.listContainers({ filters: { label: [`shoal.service.id=${STACK}_client`] } });
    if (client === undefined) throw new Error('no client container');
    const load = spawn('docker', ['exec', client.Id, 'sh', '-c', CLIENT_LOAD], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    load.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    load.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<void>((resolve) => load.on('exit', () => resolve()));
    return {
      stop: async (): Promise<Record<string, number>> => {
        await run('docker', ['exec', client.Id, 'touch', '/tmp/stop']);
        await exited;
        const counts: Record<string, number> = {};
        for (const line of out.split('\n').filter((l) => l.trim() !== '')) counts[line] = (counts[line] ?? 0) + 1;
        return counts;
      },
    };
  };

  beforeAll(async () => {
    docker = await requireDocker();
    hadShoal0 = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).includes(' shoal0:');
    for (const [version, healthy] of [
      ['v1', true],
      ['v2', false],
      ['v3', true],
    ] as const) {
      await buildVersion(version, healthy);
      imageIds[version] = (await docker.getImage(`${BUILT}:${version}`).inspect()).Id;
    }
    registry = await startRegistry();
    repo = `${registry.host}/shoal-e2e/web`;
    tag = `${repo}:live`;
    port = await freePort('0.0.0.0');
    digests.v1 = await push('v1');
    const made = makeAgents(1, 'shoal-image-update-e2e-');
    cleanupAgents = made.cleanup;
    agent = made.agents[0]!;
    await bootstrapCluster(made.agents, { flags: ['--mesh'] });
  }, 180_000);

  afterAll(async () => {
    await stopLoads?.().catch(() => undefined);
    if (agent?.running) {
      await agent.api('DELETE', `/v1/stacks/${STACK}`).catch(() => undefined);
      await waitFor(
        'the stack gone',
        async () =>
          (await docker.listContainers({ all: true, filters: { label: [`shoal.stack=${STACK}`] } })).length === 0,
        60_000,
      ).catch(() => undefined);
    }
    await cleanupAgents?.();
    if (docker) {
      const left = await docker.listContainers({ all: true, filters: { label: [`shoal.stack=${STACK}`] } });
      for (const c of left)
        await docker
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .catch(() => undefined);
      await docker.pruneNetworks({ filters: { label: [`shoal.stack=${STACK}`] } }).catch(() => undefined);
      // The registry's tag and digests of the pushed builds (the builds stay, as a cache).
      if (repo) await removeRepositoryImages(docker, repo, { keepBuilds: true });
    }
    await registry?.stop();
    if (!hadShoal0) {
      try {
        execFileSync('ip', ['link', 'del', 'shoal0'], { stdio: 'ignore' });
      } catch {
        /* never made */
      }
    }
  }, 120_000);

  it('rolls a bad push back and marks it, rolls the next push out, and loses no request on the way', async () => {
    const deployed = await agent!.api('POST', '/v1/stacks', {
      name: STACK,
      compose: compose(tag, port),
      file: 'compose.yml',
    });
    expect(deployed.status).toBe(200);
    expect((await service()).image).toBe(`${tag}@${digests.v1}`);
    await waitFor(`${REPLICAS} healthy replicas of v1`, () => allOn('v1'), 90_000, log);
    // v1 must be stable (its rollout completed) to be what a failed rollout goes back to.
    await waitFor('version 1 completed', async () => (await service()).update?.state === 'completed', 30_000, log);
    await waitFor(`v1 on the published port ${port}`, () => answers(port), 30_000, log);
    await waitFor(
      'v1 by name from the client',
      async () => {
        const probe = await startClientLoad();
        await new Promise((r) => setTimeout(r, 300));
        return JSON.stringify(await probe.stop()).startsWith('{"v1":');
      },
      30_000,
      log,
    );

    const load = startLoad({ port, workers: 3, pauseMs: 30 });
    const byName = await startClientLoad();
    stopLoads = async () => {
      await load.stop();
      await byName.stop();
    };
    // v2: never healthy. The watch rolls it out by itself, the rollout fails and goes back to v1.
    digests.v2 = await push('v2');
    expect(digests.v2).not.toBe(digests.v1);
    await waitFor(
      'the watch to update to v2 and the rollout to roll it back',
      async () => {
        const s = await service();
        return s.version >= 3 && s.update?.state === 'rolled_back';
      },
      90_000,
      log,
    );
    expect((await service()).image).toBe(`${tag}@${digests.v1}`);
    await waitFor(`${REPLICAS} healthy replicas of v1 again`, () => allOn('v1'), 60_000, log);
    await waitFor(
      'the image_bad event of v2',
      async () => (await events()).some((e) => e.action === 'image_bad' && e.message.includes(digests.v2!)),
      30_000,
      log,
    );
    // Let the watch ask the tag again (every 5 s) while it still names v2: it must not retry it.
    await new Promise((r) => setTimeout(r, 6_500));
    expect((await service()).version).toBe(3);

    // v3: rolled out by itself.
    digests.v3 = await push('v3');
    await waitFor(
      'the watch to update to v3 and the rollout to complete',
      async () => {
        const s = await service();
        return s.image === `${tag}@${digests.v3}` && s.update?.state === 'completed';
      },
      90_000,
      log,
    );
    await waitFor(`${REPLICAS} healthy replicas of v3`, () => allOn('v3'), 30_000, log);
    stopLoads = undefined;
    const result = await load.stop();
    const answersByName = await byName.stop();
    process.stdout.write(
      `image update v1→v2 (rolled back)→v3 under load: published port ${JSON.stringify(result)}, by name ${JSON.stringify(answersByName)}\n`,
    );
    expect(result.errors).toEqual([]);
    expect(result.failed).toBe(0);
    expect(result.ok).toBe(result.sent);
    // Both good versions answered; v2 was never healthy, so never in rotation.
    expect(Object.keys(result.bodies).sort()).toEqual(['v1', 'v3']);
    expect(Object.keys(answersByName).sort()).toEqual(['v1', 'v3']); // no `failed`, no v2

    const history = await agent!.api<{ versions: { image: string; stable: boolean; rollbackOf: number | null }[] }>(
      'GET',
      `/v1/services/${SERVICE}/history?stale=1`,
    );
    expect(history.body.versions.map((v) => v.image)).toEqual(
      [digests.v1, digests.v2, digests.v1, digests.v3].map((d) => `${tag}@${d}`),
    );
    // The rollback's version is stable once rolled back; v2's never was (what makes it bad).
    expect(history.body.versions.map((v) => v.stable)).toEqual([true, false, true, true]);
    expect(history.body.versions[2]!.rollbackOf).toBe(1);

    const said = await events();
    process.stdout.write(`events of ${SERVICE}:\n${said.map((e) => `  ${e.action}: ${e.message}`).join('\n')}\n`);
    expect(said.filter((e) => e.action === 'image_update').map((e) => e.message)).toEqual([
      expect.stringContaining(`@${digests.v2}`),
      expect.stringContaining(`@${digests.v3}`),
    ]);
    expect(said.filter((e) => e.action === 'image_bad').map((e) => e.message)).toEqual([
      expect.stringContaining(digests.v2!),
    ]);
    // Rolled back for the cause planted: v2's health check.
    expect(said.find((e) => e.action === 'rolling_back')?.message).toMatch(
      /automatic rollback to version 1: .*unhealthy/,
    );
    expect(said.map((e) => e.action)).toEqual(expect.arrayContaining(['rolling_back', 'rolled_back', 'completed']));
  }, 300_000);
});
