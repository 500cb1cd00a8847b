import {
  affinityScore,
  binpackScore,
  DEFAULT_SCORES,
  preferencesScore,
  spreadScore,
} from '../../src/scheduler/index.js';
import { GiB, groupOf, node, placed, scoreOf, task } from './fixtures.js';

describe('spreadScore', () => {
  // scale = tasks of the service before the group + the group's size
  it.each([
    ['empty node, 4 to place', 0, 0, 3, 100],
    ['1 of the service here, scale 4', 1, 1, 2, 75],
    ['2 of 2 here, scale 4', 2, 2, 1, 50],
    ['other services do not count', 0, 3, 0, 100],
    ['all of the service here, scale 2', 1, 1, 0, 50],
  ])('score() %s', (_, ofService, onNode, extra, expected) => {
    const running = [
      ...Array.from({ length: ofService }, (_, i) => placed(`w${i}`, 'a')),
      ...Array.from({ length: onNode - ofService }, (_, i) => placed(`o${i}`, 'a', { serviceId: 'other' })),
    ];
    expect(scoreOf(spreadScore, [node('a'), node('b')], 'a', task('t'), running, extra)).toBeCloseTo(expected, 9);
  });
  it('appliesTo() spread groups only', () => {
    expect(spreadScore.appliesTo(groupOf(task('t')))).toBe(true);
    expect(spreadScore.appliesTo(groupOf(task('t', { strategy: 'binpack' })))).toBe(false);
  });
});

describe('binpackScore', () => {
  const half = [placed('p', 'a', { serviceId: 'x', reservations: { cpus: 2000, memoryBytes: 4 * GiB } })];
  it.each([
    ['empty node, task asks nothing', node('a'), [], {}, 0],
    ['half-full node, task asks nothing', node('a'), half, {}, 50],
    ['half-full node, task fills it', node('a'), half, { cpus: 2000, memoryBytes: 4 * GiB }, 100],
    ['empty node, task takes a quarter of cpu only', node('a'), [], { cpus: 1000 }, 12.5],
    [
      'unused GPUs lower the score',
      node('a', { resources: { cpus: 4000, memoryBytes: 8 * GiB, gpus: ['g0'] } }),
      half,
      {},
      100 / 3,
    ],
    [
      'GPU task on a GPU node',
      node('a', { resources: { cpus: 4000, memoryBytes: 8 * GiB, gpus: ['g0'] } }),
      half,
      { gpus: 1 },
      200 / 3,
    ],
    ['node without capacity', node('a', { resources: { cpus: 0, memoryBytes: 0 } }), [], {}, 0],
  ])('score() %s', (_, view, running, reservations, expected) => {
    expect(scoreOf(binpackScore, [view], 'a', task('t', { strategy: 'binpack', reservations }), running)).toBeCloseTo(
      expected,
      9,
    );
  });
  it('appliesTo() binpack groups only', () => {
    expect(binpackScore.appliesTo(groupOf(task('t')))).toBe(false);
    expect(binpackScore.appliesTo(groupOf(task('t', { strategy: 'binpack' })))).toBe(true);
  });
});

describe('preferencesScore', () => {
  const views = [
    node('a', { labels: { zone: 'eu', rack: 'r1' } }),
    node('b', { labels: { zone: 'eu', rack: 'r2' } }),
    node('c', { labels: { zone: 'us', rack: 'r1' } }),
    node('d', { labels: {} }),
  ];
  const zone = [{ spread: 'node.labels.zone' }];
  const zoneRack = [{ spread: 'node.labels.zone' }, { spread: 'node.labels.rack' }];
  // 2 tasks of web on a (eu/r1), 1 on c (us/r1); group of 1 → scale 4
  const running = [placed('w1', 'a'), placed('w2', 'a'), placed('w3', 'c')];
  it.each([
    ['zone eu holds 2 of scale 4', zone, 'b', 50],
    ['zone us holds 1 of scale 4', zone, 'c', 75],
    ['a node without the label is its own (empty) value', zone, 'd', 100],
    // levels weigh 2/3 and 1/3: eu 50, eu/r2 100
    ['two levels: eu (2) then r2 (0)', zoneRack, 'b', (2 / 3) * 50 + (1 / 3) * 100],
    ['two levels: eu (2) then r1 (2)', zoneRack, 'a', 50],
    ['two levels: us (1) then us/r1 (1)', zoneRack, 'c', 75],
  ])('score() %s', (_, preferences, nodeId, expected) => {
    expect(scoreOf(preferencesScore, views, nodeId, task('t', { preferences }), running)).toBeCloseTo(expected, 9);
  });
  it('appliesTo() groups with preferences only', () => {
    expect(preferencesScore.appliesTo(groupOf(task('t')))).toBe(false);
    expect(preferencesScore.appliesTo(groupOf(task('t', { preferences: zone })))).toBe(true);
  });
});

describe('affinityScore', () => {
  const soft = (type: 'affinity' | 'anti-affinity', service: string, weight?: number) => ({
    service,
    type,
    required: false,
    ...(weight === undefined ? {} : { weight }),
  });
  const db = placed('d', 'a', { serviceId: 'db' });
  const cache = placed('c', 'a', { serviceId: 'cache' });
  it.each([
    ['affinity met', [soft('affinity', 'db')], [db], 100],
    ['affinity not met', [soft('affinity', 'db')], [], 0],
    ['anti-affinity met', [soft('anti-affinity', 'db')], [], 100],
    ['anti-affinity broken', [soft('anti-affinity', 'db')], [db], 0],
    [
      'weighted: affinity 3 met, anti 1 broken',
      [soft('affinity', 'db', 3), soft('anti-affinity', 'cache', 1)],
      [db, cache],
      75,
    ],
    ['weighted: both met', [soft('affinity', 'db', 3), soft('anti-affinity', 'cache', 1)], [db], 100],
    [
      'required rules are ignored',
      [{ service: 'db', type: 'affinity' as const, required: true }, soft('anti-affinity', 'db')],
      [db],
      0,
    ],
  ])('score() %s', (_, affinity, running, expected) => {
    expect(scoreOf(affinityScore, [node('a')], 'a', task('t', { affinity }), running)).toBeCloseTo(expected, 9);
  });
  it('appliesTo() groups with a preferred rule only', () => {
    expect(
      affinityScore.appliesTo(groupOf(task('t', { affinity: [{ service: 'db', type: 'affinity', required: true }] }))),
    ).toBe(false);
    expect(affinityScore.appliesTo(groupOf(task('t', { affinity: [soft('affinity', 'db')] })))).toBe(true);
  });
});

describe('DEFAULT_SCORES', () => {
  it('lists every score with its weight family', () => {
    expect(DEFAULT_SCORES.map((s) => [s.name, s.family])).toEqual([
      ['preferences', 'preferences'],
      ['affinity', 'affinity'],
      ['spread', 'strategy'],
      ['binpack', 'strategy'],
    ]);
  });
});
