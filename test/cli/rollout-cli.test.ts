/**
 * Rollouts end to end (issue 15): the CLI in process against the API of a real agent (one node,
 * memory transport, MemoryDriver). A version whose containers crash at start (the driver's
 * `failImages`) is rolled back automatically to the last stable version; history, rollback --to,
 * promote and update behave as their help says.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../../src/cli/index.js';
import { startHarness, type Harness } from '../api/harness.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(argv: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCli([...argv, '--addr', `unix://${h.socketPath}`], {
    env: {},
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    fileExists: () => false,
    now: () => Date.now(),
  });
  return { code, out, err };
}

const COMPOSE = `
services:
  api:
    image: nginx:1
    deploy:
      replicas: 2
      restart_policy: {condition: any, delay: 1s}
      update_config: {failure_action: rollback, monitor: 1s}
      rollback_config: {parallelism: 0, monitor: 1s}
`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ nodes: 1 });
}, 30_000);
afterAll(async () => {
  await h?.close();
});

const state = () => h.agent.agent.store.state;
const rollout = () => state().service('web_api')?.rollout;
const runningImages = () =>
  state()
    .tasksOfService('web_api')
    .filter((t) => t.state === 'running' && t.desiredState === 'running')
    .map(
      (t) =>
        state()
          .service('web_api')!
          .history!.find((e) => e.version === t.serviceVersion)!.spec.image,
    )
    .sort();

describe('shoal service update / rollback / history / promote', () => {
  it('rolls a crashing image back automatically, and the CLI shows it', async () => {
    await h.agent.agent.api.deployStack({ name: 'web', compose: COMPOSE, file: 'compose.yml', env: {} });
    await h.cluster.until('version 1 completed', () => rollout()?.state === 'completed', 20_000);

    h.agent.driver.failImages.add('nginx:bad');
    const update = await cli(['service', 'update', 'web_api', '--image', 'nginx:bad', '--env-add', 'MODE=x']);
    expect(update).toMatchObject({ code: 0, err: '' });
    expect(update.out).toBe('web_api: version 2, updating\n');

    await h.cluster.until('the rollback to complete', () => rollout()?.state === 'rolled_back', 30_000);
    expect(rollout()!.reason).toMatch(/^automatic rollback to version 1: 1 of 2 new tasks failed/);
    expect(runningImages()).toEqual(['nginx:1', 'nginx:1']);

    const ls = await cli(['service', 'ls']);
    expect(ls.out.split('\n')[0]).toMatch(/^NAME +MODE +REPLICAS +IMAGE +PORTS +UPDATE$/);
    expect(ls.out.split('\n')[1]).toMatch(
      /^web_api +replicated +2\/2 +nginx:1 +rolled back: automatic rollback to version 1/,
    );

    const history = await cli(['service', 'history', 'web_api']);
    const lines = history.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^VERSION +IMAGE +CREATED +STABLE +NOTE$/);
    expect(lines[1]).toMatch(/^1 +nginx:1 +\S+ \S+ +yes$/);
    expect(lines[2]).toMatch(/^2 +nginx:bad +\S+ \S+ +no$/);
    expect(lines[3]).toMatch(/^3 \* +nginx:1 +\S+ \S+ +yes +rollback to 1$/);

    const json = JSON.parse((await cli(['service', 'inspect', 'web_api'])).out);
    expect(json[0].update).toMatchObject({ state: 'rolled_back', fromVersion: 2, toVersion: 3 });
    expect(json[0].spec.env).toEqual({});
  }, 60_000);

  it('rollback --to N, and the refusals exit non-zero with the reason', async () => {
    const to = await cli(['service', 'rollback', 'web_api', '--to', '2']);
    expect(to).toMatchObject({ code: 0, out: 'web_api: version 4, rolling back (rollback to version 2 requested)\n' });
    // version 2 crashes too, and a rollback is never rolled back: it pauses
    await h.cluster.until('the rollback to pause', () => rollout()?.state === 'rollback_paused', 30_000);

    const missing = await cli(['service', 'rollback', 'web_api', '--to', '99']);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/version 99 of web_api is not in its history \(kept: 1, 2, 3, 4\)/);
    const promote = await cli(['service', 'promote', 'web_api']);
    expect(promote.code).toBe(1);
    expect(promote.err).toMatch(/has no canaries to promote/);
    expect((await cli(['service', 'update', 'web_api'])).code).toBe(2);
    expect((await cli(['service', 'rollback', 'web_api', '--to', 'x'])).err).toMatch(/--to: expected a version number/);

    // back to a good image by hand
    const fixed = await cli(['service', 'update', 'web_api', '--image', 'nginx:2']);
    expect(fixed.code).toBe(0);
    await h.cluster.until('version 5 completed', () => rollout()?.state === 'completed', 30_000);
    expect(runningImages()).toEqual(['nginx:2', 'nginx:2']);
    const json = JSON.parse((await cli(['service', 'history', 'web_api', '-o', 'json'])).out);
    expect(json.versions.map((v: { version: number }) => v.version)).toEqual([1, 2, 3, 4, 5]);
  }, 60_000);

  it('stack deploy waits for its rollouts: exit 0 once completed, 1 with the reason when paused', async () => {
    const file = join(h.dir, 'shop.yml');
    const compose = (image: string) =>
      `services:\n  front:\n    image: ${image}\n    deploy:\n      replicas: 2\n` +
      '      restart_policy: {condition: any, delay: 1s}\n      update_config: {monitor: 1s}\n';
    await writeFile(file, compose('nginx:10'));
    const first = await cli(['stack', 'deploy', '-f', file, '--name', 'shop']);
    expect(first).toMatchObject({ code: 0, err: '' });
    const lines = first.out.trimEnd().split('\n');
    expect(lines[0]).toBe('Creating service shop_front');
    expect(lines.at(-1)).toBe('shop_front   completed 2/2');

    await writeFile(file, compose('nginx:bad'));
    const bad = await cli(['stack', 'deploy', '-f', file, '--name', 'shop']);
    expect(bad.code).toBe(1);
    expect(bad.out.split('\n')[0]).toBe('Updating service shop_front');
    expect(bad.out).toMatch(/^shop_front {3}updating 0\/2$/m);
    expect(bad.err).toMatch(/^shoal: shop_front: rollout paused: 1 of 2 new tasks failed, above max_failure_ratio 0/);

    await writeFile(file, compose('nginx:11'));
    const detached = await cli(['stack', 'deploy', '-f', file, '--name', 'shop', '--detach']);
    expect(detached).toEqual({ code: 0, out: 'Updating service shop_front\n', err: '' });
  }, 60_000);
});

describe('shoal service promote', () => {
  it('a canary runs beside the old tasks until promoted, then the rollout completes', async () => {
    const compose =
      'services:\n  api:\n    image: nginx:1\n    deploy:\n      replicas: 2\n' +
      '      update_config: {monitor: 1s}\n    x-shoal:\n      update: {canary: 1}\n';
    await h.agent.agent.api.deployStack({ name: 'can', compose, file: 'compose.yml', env: {} });
    const service = () => state().service('can_api')!;
    const images = () =>
      state()
        .tasksOfService('can_api')
        .filter((t) => t.state === 'running' && t.desiredState === 'running')
        .map((t) => service().history!.find((e) => e.version === t.serviceVersion)!.spec.image)
        .sort();
    await h.cluster.until('version 1 completed', () => service().rollout?.state === 'completed', 20_000);

    expect((await cli(['service', 'update', 'can_api', '--image', 'nginx:2'])).code).toBe(0);
    await h.cluster.until('the canary', () => service().rollout?.state === 'awaiting_promotion', 20_000);
    expect(images()).toEqual(['nginx:1', 'nginx:1', 'nginx:2']);

    const promote = await cli(['service', 'promote', 'can_api']);
    expect(promote.code).toBe(0);
    await h.cluster.until('version 2 completed', () => service().rollout?.state === 'completed', 30_000);
    await h.cluster.until('one task per slot', () => images().length === 2, 10_000);
    expect(images()).toEqual(['nginx:2', 'nginx:2']);
  }, 60_000);
});
