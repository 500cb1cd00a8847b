/**
 * The leader's image watch loop (src/agent/image-watch-loop.ts) on a fake state, writer and
 * registry, with virtual time: one HEAD per tag per interval, the update it proposes (the spec
 * `service update --image` would make), and what it does when the registry does not answer.
 */
import { pino } from 'pino';
import { ImageWatchLoop } from '../../src/agent/image-watch-loop.js';
import type { Clock, TimerHandle } from '../../src/raft/driver/index.js';
import type { ImageRef } from '../../src/runtime/image-ref.js';
import { hashService, parseStackOrThrow } from '../../src/stack/index.js';
import type { CommandInput } from '../../src/state/index.js';
import type { ServiceRecord } from '../../src/state/workloads.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const TAG = '127.0.0.1:5000/app:v1';

function services(): ServiceRecord[] {
  const stack = parseStackOrThrow(
    `services:
  web:
    image: ${TAG}@${D1}
    environment: {A: "1"}
    x-shoal: {image_update: {interval: 10s}}
  api:
    image: ${TAG}@${D1}
    x-shoal: {image_update: {interval: 1m}}
  plain:
    image: ${TAG}@${D1}
`,
    { file: 'c.yml', name: 's' },
  );
  return Object.values(stack.services).map((spec) => ({
    id: `s_${spec.name}`,
    stack: 's',
    name: spec.name,
    spec,
    specHash: hashService(spec),
    version: 1,
    replicas: 1,
    createdAt: 0,
    updatedAt: 0,
  }));
}

function setup(
  registry: (ref: ImageRef) => Promise<string>,
  options: { clusterDefault?: { intervalMs: number } } = {},
) {
  let now = 0;
  // Passes are driven by the test (loop.pass()), so the timers never fire.
  const never = (): TimerHandle => setTimeout(() => undefined, 0);
  const clock: Clock = {
    now: () => now,
    setInterval: never,
    clearInterval: () => undefined,
    setTimeout: never,
    clearTimeout: () => undefined,
  };
  const records = services();
  const submitted: CommandInput[] = [];
  const asked: string[] = [];
  const loop = new ImageWatchLoop({
    state: { services: () => records, service: (id) => records.find((s) => s.id === id) },
    writer: {
      submit: async (command) => {
        submitted.push(command);
        return undefined;
      },
    },
    digest: async (ref) => {
      asked.push(`${ref.name}:${ref.tag}`);
      return registry(ref);
    },
    clock,
    log: pino({ level: 'silent' }),
    ...options,
  });
  loop.start();
  return { loop, submitted, asked, advance: (ms: number) => (now += ms) };
}

describe('ImageWatchLoop', () => {
  it('asks a tag shared by two services once per (shortest) interval', async () => {
    const { loop, asked, submitted, advance } = setup(async () => D1);
    await loop.pass();
    expect(asked).toEqual([TAG]);
    advance(9_999);
    await loop.pass();
    expect(asked).toHaveLength(1);
    advance(1);
    await loop.pass();
    expect(asked).toHaveLength(2);
    expect(submitted).toEqual([]);
    loop.stop();
  });

  it('proposes service.update with the new pinned image for each watching service, as service update --image does', async () => {
    const { loop, submitted } = setup(async () => D2);
    const decisions = await loop.pass();
    expect(decisions.map((d) => d.kind)).toEqual(['update', 'update']);
    expect(submitted.map((c) => (c.type === 'service.update' ? c.serviceId : c.type))).toEqual(['s_api', 's_web']);
    const web = submitted.find((c) => c.type === 'service.update' && c.serviceId === 's_web');
    if (web?.type !== 'service.update') throw new Error('no update of s_web');
    expect(web.spec.image).toBe(`${TAG}@${D2}`);
    expect(web.spec.env).toEqual({ A: '1' });
    expect(web.spec.imageUpdate).toEqual({ intervalMs: 10_000 });
    expect(web.specHash).toBe(hashService(web.spec));
    expect(web.force).toBe(false);
    expect(web.reason).toBe(`image watch: ${TAG} moved to ${D2}`);
    loop.stop();
  });

  it('updates services without image_update too under a cluster default (--image-update-ms)', async () => {
    const { loop, submitted } = setup(async () => D2, { clusterDefault: { intervalMs: 30_000 } });
    await loop.pass();
    expect(submitted.map((c) => (c.type === 'service.update' ? c.serviceId : c.type))).toEqual([
      's_api',
      's_plain',
      's_web',
    ]);
    loop.stop();
  });

  it('proposes nothing when the registry does not answer, and asks again after the interval', async () => {
    let fail = true;
    const { loop, asked, submitted, advance } = setup(async () => {
      if (fail) throw new Error('connection refused');
      return D2;
    });
    expect(await loop.pass()).toEqual([]);
    expect(submitted).toEqual([]);
    fail = false;
    advance(10_000);
    await loop.pass();
    expect(asked).toHaveLength(2);
    expect(submitted).toHaveLength(2);
    loop.stop();
  });

  it('does nothing once stopped (the node lost the lead)', async () => {
    const { loop, asked } = setup(async () => D2);
    loop.stop();
    expect(await loop.pass()).toEqual([]);
    expect(asked).toEqual([]);
  });
});
