/**
 * Automatic image updates, the pure part (src/controllers/image-watch.ts): which tags are due
 * (virtual time, one HEAD per tag shared across services), what a digest means for each service,
 * and bad digests from the history.
 */
import {
  agreedImageId,
  badDigests,
  decideImageUpdates,
  dueTags,
  watchedServices,
} from '../../src/controllers/image-watch.js';
import { hashService, parseStackOrThrow, type ServiceSpec } from '../../src/stack/index.js';
import type { RolloutState, VersionEntry } from '../../src/state/rollout.js';
import type { ServiceRecord } from '../../src/state/workloads.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;
const TAG = '127.0.0.1:5000/app:v1';

function spec(name: string, imageUpdate: string | null, image = `${TAG}@${D1}`): ServiceSpec {
  const xShoal = imageUpdate === null ? '' : `    x-shoal:\n      image_update: ${imageUpdate}\n`;
  return parseStackOrThrow(`services:\n  ${name}:\n    image: ${image}\n${xShoal}`, { file: 'c.yml', name: 's' })
    .services[name]!;
}

function record(
  s: ServiceSpec,
  options: { version?: number; rollout?: RolloutState; history?: VersionEntry[] } = {},
): ServiceRecord {
  const version = options.version ?? 1;
  return {
    id: `s_${s.name}`,
    stack: 's',
    name: s.name,
    spec: s,
    specHash: hashService(s),
    version,
    replicas: 1,
    createdAt: 0,
    updatedAt: 0,
    ...(options.history === undefined ? {} : { history: options.history }),
    ...(options.rollout === undefined
      ? {}
      : {
          rollout: {
            state: options.rollout,
            reason: '',
            fromVersion: version - 1,
            toVersion: version,
            startedAt: 0,
            updatedAt: 0,
            progressAt: 0,
            updated: 0,
            failed: 0,
            total: 1,
            promoted: false,
          },
        }),
  };
}

function entry(version: number, image: string, stable: boolean, rollbackOf?: number): VersionEntry {
  const s = spec('web', '{interval: 1m}', image);
  return {
    version,
    spec: s,
    specHash: hashService(s),
    force: 0,
    createdAt: 0,
    stable,
    ...(rollbackOf === undefined ? {} : { rollbackOf }),
  };
}

describe('image watch: which tags to ask', () => {
  it('watches nothing by default (no x-shoal.image_update)', () => {
    const watched = watchedServices([record(spec('web', null))]);
    expect(watched).toEqual([]);
    expect(dueTags(watched, new Map(), 0)).toEqual([]);
  });

  it('asks a tag at once, then again only after its interval', () => {
    const watched = watchedServices([record(spec('web', '{interval: 1m}'))]);
    expect(dueTags(watched, new Map(), 1_000)).toEqual([TAG]);
    const checked = new Map([[TAG, 1_000]]);
    expect(dueTags(watched, checked, 60_999)).toEqual([]);
    expect(dueTags(watched, checked, 61_000)).toEqual([TAG]);
  });

  it('asks a tag shared by services once, at the shortest of their intervals', () => {
    const watched = watchedServices([
      record(spec('web', '{interval: 1m}')),
      record(spec('api', '{interval: 10s}')),
      record(spec('other', '{interval: 1m}', `127.0.0.1:5000/other:v1@${D1}`)),
    ]);
    expect(dueTags(watched, new Map(), 0)).toEqual([TAG, '127.0.0.1:5000/other:v1']);
    const checked = new Map([
      [TAG, 0],
      ['127.0.0.1:5000/other:v1', 0],
    ]);
    expect(dueTags(watched, checked, 10_000)).toEqual([TAG]);
    // One answer for the tag decides for both services.
    const decisions = decideImageUpdates(watched, new Map([[TAG, D2]]));
    expect(decisions.map((d) => [d.kind, d.serviceId])).toEqual([
      ['update', 's_api'],
      ['update', 's_web'],
    ]);
  });

  it('watches services without image_update at the cluster default, unless they say false', () => {
    const services = [
      record(spec('plain', null)),
      record(spec('never', 'false')),
      record(spec('own', '{interval: 10s}')),
    ];
    expect(watchedServices(services).map((w) => w.id)).toEqual(['s_own']);
    const watched = watchedServices(services, { intervalMs: 30_000 });
    expect(watched.map((w) => [w.id, w.intervalMs, w.policy])).toEqual([
      ['s_own', 10_000, 'registry'],
      ['s_plain', 30_000, 'registry'],
    ]);
  });

  it('watches a bare tag (latest) under name:latest', () => {
    const watched = watchedServices([record(spec('web', '{}', `127.0.0.1:5000/app@${D1}`))]);
    expect(watched[0]!.tag).toBe('127.0.0.1:5000/app:latest');
  });
});

describe('image watch: what a digest means', () => {
  it('updates a service to the new digest, pinned under its tag', () => {
    const watched = watchedServices([record(spec('web', '{interval: 1m}'))]);
    expect(decideImageUpdates(watched, new Map([[TAG, D1]]))).toEqual([]);
    expect(decideImageUpdates(watched, new Map())).toEqual([]);
    expect(decideImageUpdates(watched, new Map([[TAG, D2]]))).toEqual([
      { kind: 'update', serviceId: 's_web', tag: TAG, from: D1, to: D2, image: `${TAG}@${D2}` },
    ]);
  });

  it('pins a service that runs the bare tag', () => {
    const watched = watchedServices([record(spec('web', '{interval: 1m}', TAG))]);
    expect(decideImageUpdates(watched, new Map([[TAG, D2]]))).toEqual([
      { kind: 'update', serviceId: 's_web', tag: TAG, from: null, to: D2, image: `${TAG}@${D2}` },
    ]);
  });

  it('waits while the service rolls out, and decides again once the rollout ended', () => {
    const busy = watchedServices([record(spec('web', '{interval: 1m}'), { rollout: 'updating' })]);
    expect(decideImageUpdates(busy, new Map([[TAG, D2]]))).toEqual([
      { kind: 'skip', serviceId: 's_web', tag: TAG, to: D2, reason: 'rollout' },
    ]);
    const done = watchedServices([record(spec('web', '{interval: 1m}'), { rollout: 'completed' })]);
    expect(decideImageUpdates(done, new Map([[TAG, D2]]))[0]!.kind).toBe('update');
  });

  it('does not try a digest whose rollout was rolled back until the tag moves on', () => {
    // v1 D1 (stable), v2 D2 failed, v3 = rollback to v1.
    const history = [
      entry(1, `${TAG}@${D1}`, true),
      entry(2, `${TAG}@${D2}`, false),
      entry(3, `${TAG}@${D1}`, true, 1),
    ];
    const service = record(spec('web', '{interval: 1m}'), { version: 3, rollout: 'rolled_back', history });
    expect([...badDigests(service)]).toEqual([D2]);
    const watched = watchedServices([service]);
    expect(decideImageUpdates(watched, new Map([[TAG, D2]]))).toEqual([
      { kind: 'skip', serviceId: 's_web', tag: TAG, to: D2, reason: 'bad' },
    ]);
    expect(decideImageUpdates(watched, new Map([[TAG, D3]]))).toEqual([
      { kind: 'update', serviceId: 's_web', tag: TAG, from: D1, to: D3, image: `${TAG}@${D3}` },
    ]);
  });

  it('marks a paused rollout bad once another version replaced it, not while it is current', () => {
    const paused = [entry(1, `${TAG}@${D1}`, true), entry(2, `${TAG}@${D2}`, false)];
    expect(
      badDigests(record(spec('web', '{}', `${TAG}@${D2}`), { version: 2, rollout: 'paused', history: paused })),
    ).toEqual(new Set());
    // A manual `service update` back to D1 (v3): D2 stays bad.
    const after = [...paused, entry(3, `${TAG}@${D1}`, false)];
    expect(badDigests(record(spec('web', '{}'), { version: 3, rollout: 'updating', history: after }))).toEqual(
      new Set([D2]),
    );
  });

  it('does not count a digest as bad when a stable version runs it', () => {
    const history = [entry(1, `${TAG}@${D2}`, false), entry(2, `${TAG}@${D2}`, true), entry(3, `${TAG}@${D1}`, true)];
    expect(badDigests(record(spec('web', '{}'), { version: 3, history }))).toEqual(new Set());
  });
});

describe('image watch: policy local (images loaded on the nodes)', () => {
  const LOCAL = `${TAG} (local)`;

  it('keys a local tag apart from the registry’s answer for the same name', () => {
    const watched = watchedServices([
      record(spec('web', '{interval: 10s, policy: local}')),
      record(spec('api', '{interval: 1m}')),
    ]);
    expect(watched.map((w) => [w.id, w.tag, w.policy])).toEqual([
      ['s_api', TAG, 'registry'],
      ['s_web', LOCAL, 'local'],
    ]);
    expect(dueTags(watched, new Map(), 0)).toEqual([TAG, LOCAL]);
    // The registry's digest for the name does not move the local service, and the other way round.
    expect(decideImageUpdates(watched, new Map([[TAG, D2]])).map((d) => d.serviceId)).toEqual(['s_api']);
    expect(decideImageUpdates(watched, new Map([[LOCAL, D3]]))).toEqual([
      { kind: 'update', serviceId: 's_web', tag: LOCAL, from: D1, to: D3, image: `${TAG}@${D3}` },
    ]);
  });

  it('a registry policy leaves the spec as before (no policy field: same hash)', () => {
    expect(spec('web', '{interval: 1m, policy: registry}').imageUpdate).toEqual({ intervalMs: 60_000 });
    expect(spec('web', '{interval: 1m, policy: local}').imageUpdate).toEqual({ intervalMs: 60_000, policy: 'local' });
  });

  it.each([
    [
      'every node reports the same id',
      [
        ['n1', D2],
        ['n2', D2],
      ],
      D2,
    ],
    [
      'a node lacks the image (docker load not done there yet)',
      [
        ['n1', D2],
        ['n2', null],
      ],
      null,
    ],
    [
      'two nodes disagree',
      [
        ['n1', D2],
        ['n2', D3],
      ],
      null,
    ],
    ['no node was asked (no task runs)', [], null],
    ['an answer that is no image id', [['n1', 'latest']], null],
  ] as const)('agreedImageId(): %s', (_what, reports, expected) => {
    expect(agreedImageId(new Map<string, string | null>(reports.map(([n, id]) => [n, id])))).toBe(expected);
  });
});
