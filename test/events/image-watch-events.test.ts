/**
 * Image watch events (src/events/derive/image-watch.ts): a watched update is an `image_update`
 * event with the watch's reason (and its rollout's `updating` carries the reason), a digest that
 * failed its rollout is an `image_bad` event; a person's update is neither.
 */
import { EventRecorder, EventWindow, type ClusterEvent } from '../../src/events/index.js';
import { hashService } from '../../src/stack/index.js';
import { ClusterStateMachine, type Command } from '../../src/state/index.js';
import { T0, init, register } from '../state/helpers.js';
import { applyAll, deployOf, stackSpec, stamp } from '../state/workload-helpers.js';

const TAG = '127.0.0.1:5000/app:v1';
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const REASON = `image watch: ${TAG} moved to ${D2}`;

const stack = (xShoal: string) => stackSpec(`services:\n  web:\n    image: ${TAG}@${D1}\n${xShoal}`, 'shop');
const WATCHED = stack('    x-shoal:\n      image_update: {interval: 5s}\n');

/** The events of `commands` applied after a deploy of `spec` whose version 1 completed. */
function eventsAfter(spec: ReturnType<typeof stack>, commands: (at: number) => Command[]): ClusterEvent[] {
  const machine = new ClusterStateMachine();
  const window = new EventWindow();
  machine.observeApplied(new EventRecorder({ window, now: () => T0, log: { error: () => undefined } }));
  applyAll(machine, [init(), register(1), deployOf(spec, T0 + 10), rollout(1, 'completed', T0 + 20)]);
  const first = window.nextSeq;
  applyAll(machine, commands(T0 + 30));
  const out: ClusterEvent[] = [];
  for (let seq = first; seq < window.nextSeq; seq++) out.push(window.get(seq)!);
  return out;
}

function rollout(version: number, state: 'completed' | 'paused', at: number): Command {
  return stamp(
    {
      type: 'service.rollout',
      serviceId: 'shop_web',
      version,
      state,
      reason: state === 'paused' ? '1 of 1 new tasks failed' : '',
      updated: 1,
      failed: state === 'paused' ? 1 : 0,
      total: 1,
      progress: false,
    },
    at,
  );
}

function update(spec: ReturnType<typeof stack>, at: number, reason?: string): Command {
  const next = { ...spec.services['web']!, image: `${TAG}@${D2}` };
  return stamp(
    {
      type: 'service.update',
      serviceId: 'shop_web',
      spec: next,
      specHash: hashService(next),
      force: false,
      ...(reason === undefined ? {} : { reason }),
    },
    at,
  );
}

describe('image watch events', () => {
  it("a watched update is an image_update event, and its rollout's updating carries the reason", () => {
    const events = eventsAfter(WATCHED, (at) => [update(WATCHED, at, REASON)]);
    expect(events.map((e) => e.action)).toEqual(['updating', 'image_update']);
    expect(events[1]).toMatchObject({
      type: 'service',
      name: 'shop_web',
      service: 'shop_web',
      stack: 'shop',
      message: `service shop_web updated to ${TAG}@${D2}: ${REASON}`,
    });
    expect(events[0]!.message).toContain(REASON);
  });

  it('a digest whose rollout was rolled back is an image_bad event, once', () => {
    const events = eventsAfter(WATCHED, (at) => [
      update(WATCHED, at, REASON),
      rollout(2, 'paused', at + 1),
      stamp({ type: 'service.rollback', serviceId: 'shop_web' }, at + 2),
      rollout(3, 'completed', at + 3),
    ]);
    const bad = events.filter((e) => e.action === 'image_bad');
    expect(bad.map((e) => e.message)).toEqual([
      `service shop_web: ${D2} failed its rollout; the image watch skips it until the tag moves on`,
    ]);
  });

  it("a person's update of a service that does not watch its image is neither", () => {
    const plain = stack('');
    const events = eventsAfter(plain, (at) => [
      update(plain, at),
      rollout(2, 'paused', at + 1),
      stamp({ type: 'service.rollback', serviceId: 'shop_web' }, at + 2),
    ]);
    expect(events.filter((e) => e.action.startsWith('image_'))).toEqual([]);
    expect(events.map((e) => e.action)).toContain('updating');
  });
});
