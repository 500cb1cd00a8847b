import { EndpointCache, buildMeshTable, inZone, lookupName } from '../../src/agent/mesh-table.js';
import type { ObservedContainer } from '../../src/runtime/index.js';
import type { ClusterStateMachine } from '../../src/state/index.js';
import { ClusterStateMachine as Machine } from '../../src/state/index.js';
import { T0, init, peerId, register } from '../state/helpers.js';
import { applyAll, deployOf, reportOf, stackSpec, stamp } from '../state/workload-helpers.js';

const SHOP = stackSpec(
  `
services:
  web:
    image: busybox
    ports: ["8080:80"]
    expose: ["9000", "7000-7001/udp"]
    deploy:
      replicas: 2
  db:
    image: postgres
    expose: ["5432"]
`,
  'shop',
);
const OTHER = stackSpec('services:\n  web:\n    image: nginx\n    ports: ["80"]\n', 'other');

/** Nodes 1 and 2; shop_web's two tasks running, web-1 on node 1 (this node) and web-2 on node 2. */
function cluster(): ClusterStateMachine {
  const machine = new Machine();
  applyAll(machine, [init(), register(1), register(2), deployOf(SHOP, T0 + 10), deployOf(OTHER, T0 + 11)]);
  applyAll(machine, [
    stamp(
      {
        type: 'task.create',
        tasks: [1, 2].map((slot) => ({ id: `web-${slot}`, serviceId: 'shop_web', slot, serviceVersion: 1 })),
      },
      T0 + 20,
    ),
    stamp(
      {
        type: 'task.assign',
        assignments: [
          { taskId: 'web-1', nodeId: peerId(1), gpus: [] },
          { taskId: 'web-2', nodeId: peerId(2), gpus: [] },
        ],
      },
      T0 + 30,
    ),
    reportOf(1, 'web-1', 1, 'running', T0 + 40),
    reportOf(2, 'web-2', 2, 'running', T0 + 41),
  ]);
  return machine;
}

function container(taskId: string, generation: number, address: string | null): ObservedContainer {
  return {
    id: `c-${taskId}`,
    name: taskId,
    nodeId: peerId(1),
    taskId,
    generation,
    labels: {},
    status: 'running',
    exitCode: null,
    health: 'none',
    healthOutput: '',
    startedAt: T0,
    finishedAt: null,
    error: '',
    oomKilled: false,
    stopSignal: null,
    stopGraceMs: null,
    address,
  };
}

const CLIENT = '172.30.1.5';
const table = (machine: ClusterStateMachine, observed = [container('web-1', 1, CLIENT)], cache?: EndpointCache) =>
  buildMeshTable({ selfId: peerId(1), state: machine.view(), observed }, cache);

describe('buildMeshTable()', () => {
  it('puts the DNS address and every service VIP on the link, and listens on declared TCP ports and ingress ports', () => {
    const machine = cluster();
    const vip = (id: string) => machine.service(id)!.vip!;
    const t = table(machine);
    expect([...t.vips].sort()).toEqual(['10.253.0.1', vip('other_web'), vip('shop_db'), vip('shop_web')].sort());
    expect(t.listeners).toEqual([
      { service: 'other_web', address: vip('other_web'), port: 80 },
      { service: 'shop_db', address: vip('shop_db'), port: 5432 },
      { service: 'shop_web', address: vip('shop_web'), port: 80 },
      { service: 'shop_web', address: vip('shop_web'), port: 9000 },
      { service: 'shop_web', address: '0.0.0.0', port: 8080, targetPort: 80 },
    ]);
  });

  it('lists running tasks as endpoints: the local one at its container address, the remote one by node only', () => {
    const t = table(cluster());
    expect(t.services.get('shop_web')!.endpoints).toEqual([
      { taskId: 'web-1', nodeId: peerId(1), address: CLIENT, healthy: true, draining: false },
      { taskId: 'web-2', nodeId: peerId(2), healthy: true, draining: false },
    ]);
  });

  it('marks a task the leader asked to stop as draining, and a local task with no address yet as not healthy', () => {
    const machine = cluster();
    applyAll(machine, [stamp({ type: 'task.desire', taskIds: ['web-2'], desiredState: 'shutdown' }, T0 + 50)]);
    const t = table(machine, [container('web-1', 1, null)]);
    expect(t.services.get('shop_web')!.endpoints.map((e) => [e.taskId, e.healthy, e.draining])).toEqual([
      ['web-1', false, false],
      ['web-2', true, true],
    ]);
  });

  it('ignores a container of an older generation of the task (a replaced assignment)', () => {
    const t = table(cluster(), [container('web-1', 7, CLIENT)]);
    expect(t.local.size).toBe(0);
  });

  it('reuses a service’s endpoint list while its tasks and local addresses are unchanged', () => {
    const machine = cluster();
    const cache = new EndpointCache();
    const first = table(machine, undefined, cache).services.get('shop_web')!.endpoints;
    applyAll(machine, [stamp({ type: 'service.scale', serviceId: 'other_web', replicas: 3 }, T0 + 60)]);
    expect(table(machine, undefined, cache).services.get('shop_web')!.endpoints).toBe(first);
    applyAll(machine, [reportOf(2, 'web-2', 2, 'failed', T0 + 61)]);
    expect(
      table(machine, undefined, cache)
        .services.get('shop_web')!
        .endpoints.map((e) => e.taskId),
    ).toEqual(['web-1']);
  });
});

describe('lookupName()', () => {
  const machine = cluster();
  const t = table(machine);
  const vip = (id: string) => machine.service(id)!.vip!;

  it.each([
    ['a bare name, in the client container’s stack', 'web', CLIENT, () => [vip('shop_web')]],
    ['<service>.<stack>', 'web.other', '10.9.9.9', () => [vip('other_web')]],
    ['a bare name unique across stacks, from an unknown client', 'db', '10.9.9.9', () => [vip('shop_db')]],
    ['a bare name two stacks have, from an unknown client', 'web', '10.9.9.9', () => null],
    ['an unknown service', 'cache', CLIENT, () => null],
    [
      'tasks.<service>: the local task directly, the VIP for the remote one',
      'tasks.web',
      CLIENT,
      () => [CLIENT, vip('shop_web')],
    ],
    ['<service>.<stack>.shoal (host processes)', 'db.shop.shoal', '10.253.0.1', () => [vip('shop_db')]],
    ['tasks.<service>.<stack> of a service with no task', 'tasks.web.other', CLIENT, () => []],
  ])('answers %s', (_what, name, client, expected) => {
    expect(lookupName(t, name, client)).toEqual(expected());
  });

  it.each([
    ['nope', true],
    ['tasks.nope', true],
    ['x.shop', true],
    ['example.com', false],
    ['anything.shoal', true],
  ])('inZone(%s) is %s', (name, expected) => {
    expect(inZone(t, name)).toBe(expected);
  });
});
