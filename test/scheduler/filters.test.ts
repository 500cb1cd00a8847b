import {
  affinityFilter,
  availabilityFilter,
  constraintFilter,
  DEFAULT_FILTERS,
  maxPerNodeFilter,
  portsFilter,
  resourcesFilter,
} from '../../src/scheduler/index.js';
import { GiB, groupOf, node, placed, task, verdict } from './fixtures.js';

describe('availabilityFilter', () => {
  it.each([
    ['active and ready', 'active', 'ready', true],
    ['draining', 'drain', 'ready', 'drain'],
    ['paused', 'pause', 'ready', 'pause'],
    ['down', 'active', 'down', 'down'],
    ['down and draining (down wins)', 'drain', 'down', 'down'],
  ] as const)('check() on a node %s', (_, availability, status, expected) => {
    expect(verdict(availabilityFilter, node('a', { availability, status }), task('t'))).toBe(expected);
  });
  it.each([
    [1, 'drain', '1 node draining'],
    [2, 'pause', '2 nodes paused'],
    [3, 'down', '3 nodes down'],
  ])('explain(%i, %s) says "%s"', (count, detail, message) => {
    expect(availabilityFilter.explain(count, detail)).toBe(message);
  });
});

describe('constraintFilter', () => {
  const n = node('n1', {
    hostname: 'alpha',
    role: 'manager',
    labels: { zone: 'eu', disk: 'ssd' },
    engineLabels: { gpu: 'nvidia' },
    platform: { os: 'linux', arch: 'x86_64' },
  });
  it.each([
    [['node.id==n1'], true],
    [['node.id!=n1'], 'node.id!=n1'],
    [['node.hostname==alpha'], true],
    [['node.hostname!=alpha'], 'node.hostname!=alpha'],
    [['node.hostname==ALPHA'], true], // values compare case-insensitively, as in Swarm
    [['node.role==manager'], true],
    [['node.role==worker'], 'node.role==worker'],
    [['node.labels.zone==eu'], true],
    [['node.labels.zone==us'], 'node.labels.zone==us'],
    [['node.labels.Zone==eu'], 'node.labels.Zone==eu'], // label names are case-sensitive
    [['node.labels.rack!=r1'], true], // missing label reads as empty
    [['node.labels.rack==r1'], 'node.labels.rack==r1'],
    [['engine.labels.gpu==nvidia'], true],
    [['node.platform.os==linux', 'node.platform.arch==arm64'], 'node.platform.arch==arm64'],
    [['node.labels.zone==eu', 'node.labels.disk==hdd', 'node.role==worker'], 'node.labels.disk==hdd'], // first unmet
  ])('check() with %j gives %j', (constraints, expected) => {
    expect(verdict(constraintFilter, n, task('t', { constraints }))).toBe(expected);
  });
  it('appliesTo() only groups with constraints', () => {
    expect(constraintFilter.appliesTo(groupOf(task('t')))).toBe(false);
    expect(constraintFilter.appliesTo(groupOf(task('t', { constraints: ['node.role==worker'] })))).toBe(true);
  });
  it('explain() names the constraint', () => {
    expect(constraintFilter.explain(3, 'node.labels.zone==eu')).toBe(
      'constraint node.labels.zone==eu not met on 3 nodes',
    );
  });
});

describe('resourcesFilter', () => {
  const big = node('a', {
    resources: { cpus: 2000, memoryBytes: 4 * GiB, gpus: ['g0', 'g1'], generic: { ssd: 2 } },
  });
  it.each([
    ['fits exactly', { cpus: 2000, memoryBytes: 4 * GiB, gpus: 2, generic: { ssd: 2 } }, [], true],
    ['too much cpu', { cpus: 2001 }, [], 'cpu'],
    ['too much memory', { memoryBytes: 4 * GiB + 1 }, [], 'memory'],
    ['too many gpus', { gpus: 3 }, [], 'gpu'],
    ['too many generic units', { generic: { ssd: 3 } }, [], 'generic:ssd'],
    ['unknown generic resource', { generic: { fpga: 1 } }, [], 'generic:fpga'],
    ['cpu left after a placed task', { cpus: 1000 }, [placed('p', 'a', { reservations: { cpus: 1000 } })], true],
    ['cpu taken by a placed task', { cpus: 1001 }, [placed('p', 'a', { reservations: { cpus: 1000 } })], 'cpu'],
    [
      'memory taken by a placed task',
      { memoryBytes: GiB },
      [placed('p', 'a', { reservations: { memoryBytes: 3.5 * GiB } })],
      'memory',
    ],
    ['gpu held by a placed task', { gpus: 2 }, [placed('p', 'a', { gpus: ['g1'] })], 'gpu'],
    [
      'gpu counted from a placed task without ids',
      { gpus: 2 },
      [placed('p', 'a', { reservations: { gpus: 1 } })],
      'gpu',
    ],
    [
      'generic held by a placed task',
      { generic: { ssd: 1 } },
      [placed('p', 'a', { reservations: { generic: { ssd: 2 } } })],
      'generic:ssd',
    ],
    ['cpu checked before memory', { cpus: 9000, memoryBytes: 9 * GiB }, [], 'cpu'],
  ] as const)('check() %s', (_, reservations, running, expected) => {
    expect(verdict(resourcesFilter, big, task('t', { reservations }), [...running])).toBe(expected);
  });
  it('appliesTo() only groups that reserve something', () => {
    expect(resourcesFilter.appliesTo(groupOf(task('t')))).toBe(false);
    expect(resourcesFilter.appliesTo(groupOf(task('t', { reservations: { gpus: 1 } })))).toBe(true);
  });
  it.each([
    [2, 'memory', 'insufficient memory on 2 nodes'],
    [1, 'cpu', 'insufficient cpu on 1 node'],
    [4, 'gpu', 'insufficient GPUs on 4 nodes'],
    [1, 'generic:ssd', 'insufficient ssd on 1 node'],
  ])('explain(%i, %s) says "%s"', (count, detail, message) => {
    expect(resourcesFilter.explain(count, detail)).toBe(message);
  });
});

describe('portsFilter', () => {
  it.each([
    ['free port', node('a'), [], [{ port: 80 }], true],
    ['port used by the host', node('a', { portsInUse: [{ port: 80 }] }), [], [{ port: 80 }], '80/tcp'],
    [
      'same number, other protocol',
      node('a', { portsInUse: [{ port: 53, protocol: 'udp' as const }] }),
      [],
      [{ port: 53 }],
      true,
    ],
    [
      'udp port used by the host',
      node('a', { portsInUse: [{ port: 53, protocol: 'udp' as const }] }),
      [],
      [{ port: 53, protocol: 'udp' as const }],
      '53/udp',
    ],
    [
      'port held by a placed task',
      node('a'),
      [placed('p', 'a', { ports: [{ port: 8080 }] })],
      [{ port: 443 }, { port: 8080 }],
      '8080/tcp',
    ],
    [
      'port held by a task on another node',
      node('a'),
      [placed('p', 'b', { ports: [{ port: 8080 }] })],
      [{ port: 8080 }],
      true,
    ],
  ])('check() %s', (_, view, running, ports, expected) => {
    expect(verdict(portsFilter, view, task('t', { ports }), running, [node('b')])).toBe(expected);
  });
  it('explain() names the port', () => {
    expect(portsFilter.explain(1, '8080/tcp')).toBe('host port 8080/tcp in use on 1 node');
  });
});

describe('maxPerNodeFilter', () => {
  it.each([
    ['no limit', 0, 5, true],
    ['under the limit', 2, 1, true],
    ['at the limit', 2, 2, '2'],
    ['limit 1 with one there', 1, 1, '1'],
  ])('check() %s', (_, max, running, expected) => {
    const onNode = Array.from({ length: running }, (_, i) => placed(`p${i}`, 'a'));
    expect(verdict(maxPerNodeFilter, node('a'), task('t', { maxReplicasPerNode: max }), onNode)).toBe(expected);
  });
  it('check() counts only tasks of the same service', () => {
    const other = [placed('p', 'a', { serviceId: 'db' })];
    expect(verdict(maxPerNodeFilter, node('a'), task('t', { maxReplicasPerNode: 1 }), other)).toBe(true);
  });
  it('explain() names the limit', () => {
    expect(maxPerNodeFilter.explain(3, '2')).toBe('max replicas per node (2) reached on 3 nodes');
  });
});

describe('affinityFilter', () => {
  const db = placed('d', 'a', { serviceId: 'db' });
  const dbElsewhere = placed('d', 'b', { serviceId: 'db' });
  const req = (type: 'affinity' | 'anti-affinity', service = 'db', required = true) =>
    task('t', { affinity: [{ service, type, required }] });
  it.each([
    ['affinity met', req('affinity'), [db], true],
    ['affinity not met (db elsewhere)', req('affinity'), [dbElsewhere], 'affinity:db'],
    ['affinity not met (no db anywhere)', req('affinity'), [], 'affinity:db'],
    ['anti-affinity met', req('anti-affinity'), [dbElsewhere], true],
    ['anti-affinity broken', req('anti-affinity'), [db], 'anti-affinity:db'],
    ['preferred rules are not filtered', req('anti-affinity', 'db', false), [db], true],
    ['self affinity waived while the service has no task', req('affinity', 'web'), [], true],
    ['self affinity applies once the service has a task', req('affinity', 'web'), [placed('w', 'b')], 'affinity:web'],
    ['self anti-affinity', req('anti-affinity', 'web'), [placed('w', 'a')], 'anti-affinity:web'],
  ])('check() %s', (_, request, running, expected) => {
    expect(verdict(affinityFilter, node('a'), request, running, [node('b')])).toBe(expected);
  });
  it.each([
    [2, 'affinity:db', 'no task of service db on 2 nodes (required affinity)'],
    [1, 'anti-affinity:db', 'task of service db already on 1 node (required anti-affinity)'],
  ])('explain(%i, %s) says "%s"', (count, detail, message) => {
    expect(affinityFilter.explain(count, detail)).toBe(message);
  });
});

describe('DEFAULT_FILTERS', () => {
  it('holds every filter once, static ones first', () => {
    expect(DEFAULT_FILTERS.map((f) => f.name)).toEqual([
      'availability',
      'constraints',
      'resources',
      'ports',
      'max-per-node',
      'affinity',
    ]);
    expect(DEFAULT_FILTERS.map((f) => f.dynamic)).toEqual([false, false, true, true, true, true]);
  });
});
