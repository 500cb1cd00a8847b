import {
  constraintsOf,
  hostPortsOf,
  placedTasks,
  reconcilePlacement,
  reservationsOf,
  toNodeView,
} from '../../src/controllers/index.js';
import { GiB, World, nid, nodeRecord, spec } from './support/world.js';
import { ofType, pass, run } from './support/loop.js';

describe('reconcilePlacement()', () => {
  it('leaves an unplaceable task pending with the scheduler reason, once', () => {
    const w = new World();
    w.addNode(1, { memoryBytes: 1 * GiB });
    w.addNode(2, { memoryBytes: 8 * GiB, availability: 'drain' }); // could hold it, once undrained
    const id = w.deploy('big', spec({ replicas: 1, memoryBytes: 4 * GiB }));
    const first = pass(w);
    const message = ofType(first, 'task.pending')!.updates[0]!.message;
    expect(message).toBe('Resources: no suitable node (1 node draining; insufficient memory on 1 node)');
    expect(w.tasksOf(id)[0]!.message).toBe(message);
    // Same reason next pass: nothing to propose.
    expect(pass(w)).toEqual([]);
    // A bigger node joins: the task is placed there.
    w.addNode(3, { memoryBytes: 16 * GiB });
    const third = pass(w);
    expect(ofType(third, 'task.assign')!.assignments).toEqual([
      { taskId: w.tasksOf(id)[0]!.id, nodeId: nid(3), gpus: [] },
    ]);
  });

  it('counts the reservations of tasks already placed, stopping ones included', () => {
    const w = new World();
    w.addNode(1, { memoryBytes: 3 * GiB });
    const id = w.deploy('web', spec({ replicas: 2, memoryBytes: 1 * GiB }));
    run(w, 2);
    w.scale(id, 4);
    const commands = pass(w);
    expect(ofType(commands, 'task.assign')!.assignments).toHaveLength(1);
    expect(ofType(commands, 'task.pending')!.updates[0]!.message).toContain('insufficient memory on 1 node');
  });

  it('keeps two tasks publishing the same host port off one node', () => {
    const w = new World();
    w.addNode(1);
    w.addNode(2);
    const id = w.deploy('web', spec({ replicas: 3, hostPort: 8080 }));
    run(w, 3);
    const running = w.tasksOf(id, (t) => t.state === 'running');
    expect(new Set(running.map((t) => t.nodeId)).size).toBe(2);
    expect(w.tasksOf(id, (t) => t.state === 'pending')[0]!.message).toContain('port');
  });

  it('never places on a node that takes no workloads', () => {
    const w = new World();
    w.addNode(1, { workloads: false });
    const id = w.deploy('web', spec({ replicas: 1 }));
    const commands = pass(w);
    expect(ofType(commands, 'task.assign')).toBeUndefined();
    expect(w.tasksOf(id)[0]!.state).toBe('pending');
  });

  it('schedules at most maxTasks tasks, highest priority and oldest first', () => {
    const w = new World();
    w.addNode(1);
    w.deploy('web', spec({ replicas: 5 }));
    w.apply([
      {
        type: 'task.create',
        tasks: [1, 2, 3, 4, 5].map((slot) => ({ id: `p${slot}`, serviceId: 'app_web', slot, serviceVersion: 1 })),
      },
    ]);
    const plan = reconcilePlacement({ state: w.state, maxTasks: 2 });
    expect(plan.assignments.map((a) => a.taskId)).toEqual(['p1', 'p2']);
  });

  it('ignores tasks being shut down in the same pass', () => {
    const w = new World();
    w.addNode(1);
    w.deploy('web', spec({ replicas: 1 }));
    w.apply([{ type: 'task.create', tasks: [{ id: 'p1', serviceId: 'app_web', slot: 1, serviceVersion: 1 }] }]);
    expect(reconcilePlacement({ state: w.state, exclude: new Set(['p1']) }).assignments).toEqual([]);
  });
});

describe('placement adapter', () => {
  it('toNodeView() converts cores to millicores and lists GPUs by uuid', () => {
    const n = {
      ...nodeRecord(nid(1)),
      resources: {
        cpus: 8,
        memoryBytes: GiB,
        gpus: [{ index: 0, uuid: 'GPU-a', name: 'H100', memoryBytes: 80 * GiB }],
      },
    };
    const view = toNodeView(n, new Set([nid(1)]));
    expect(view.resources).toEqual({ cpus: 8000, memoryBytes: GiB, gpus: ['GPU-a'] });
    expect(view.role).toBe('manager');
    expect(toNodeView(n).role).toBe('worker');
  });

  it('reservationsOf() counts GPU device requests and gpu generic resources', () => {
    const s = spec({ memoryBytes: 2 * GiB });
    const withGpus = {
      ...s,
      deploy: {
        ...s.deploy,
        resources: {
          ...s.deploy.resources,
          reservations: {
            ...s.deploy.resources.reservations,
            cpuMillis: 500,
            generic: { gpu: 1, ssd: 2 },
            devices: [{ capabilities: ['gpu'], driver: 'nvidia', count: 2, deviceIds: [], options: {} }],
          },
        },
      },
    };
    expect(reservationsOf(withGpus)).toEqual({ cpus: 500, memoryBytes: 2 * GiB, gpus: 3, generic: { ssd: 2 } });
  });

  it('hostPortsOf() keeps only host-mode published ports', () => {
    const s = spec();
    const ports = [
      { target: 80, published: 8080, protocol: 'tcp', mode: 'host', hostIp: null },
      { target: 81, published: 8081, protocol: 'tcp', mode: 'ingress', hostIp: null },
      { target: 53, published: 53, protocol: 'udp', mode: 'host', hostIp: null },
      { target: 90, published: null, protocol: 'tcp', mode: 'host', hostIp: null },
    ] as const;
    expect(hostPortsOf({ ...s, ports })).toEqual([
      { port: 8080, protocol: 'tcp' },
      { port: 53, protocol: 'udp' },
    ]);
  });

  it('placedTasks() lists tasks holding resources: assigned to running, not ended or pending', () => {
    const w = new World();
    w.addNode(1);
    const id = w.deploy('web', spec({ replicas: 3, memoryBytes: GiB }));
    run(w, 2);
    const [a, b] = w.tasksOf(id);
    w.report(a!.nodeId!, a!.id, a!.generation, 'failed');
    w.apply([{ type: 'task.desire', taskIds: [b!.id], desiredState: 'shutdown' }]);
    const placed = placedTasks(w.state).map((p) => p.id);
    expect(placed).not.toContain(a!.id);
    expect(placed).toContain(b!.id);
    expect(placedTasks(w.state).find((p) => p.id === b!.id)!.reservations).toMatchObject({ memoryBytes: GiB });
  });
});

describe('constraintsOf()', () => {
  it('constraintsOf() adds the node OS and architecture a platform asks for to deploy.placement.constraints', () => {
    const s = spec({ constraints: [{ attribute: 'node.labels.zone', op: '==', value: 'eu' }] });
    expect(constraintsOf(s)).toEqual(['node.labels.zone==eu']);
    expect(constraintsOf({ ...s, platform: { os: 'linux', arch: 'arm64', variant: null } })).toEqual([
      'node.labels.zone==eu',
      'node.platform.os==linux',
      'node.platform.arch==arm64',
    ]);
  });
});
