import {
  InvalidCommandError,
  decodeCommand,
  encodeCommand,
  validateCommand,
  type Command,
} from '../../src/state/index.js';
import { T0, peerId } from './helpers.js';
import { WEB, deployOf, stamp } from './workload-helpers.js';

const deploy = deployOf(WEB, T0);
const api = WEB.services.api!;

const valid: Array<[string, Command]> = [
  ['stack.deploy', deploy],
  ['stack.remove', stamp({ type: 'stack.remove', name: 'web' }, T0)],
  ['service.scale', stamp({ type: 'service.scale', serviceId: 'web_api', replicas: 10_000 }, T0)],
  [
    'task.create',
    stamp(
      {
        type: 'task.create',
        tasks: [
          { id: 'web-api-1', serviceId: 'web_api', slot: 1, serviceVersion: 1 },
          { id: 'web-agent-x', serviceId: 'web_agent', slot: 0, serviceVersion: 3, nodeId: peerId(1) },
        ],
      },
      T0,
    ),
  ],
  [
    'task.assign',
    stamp({ type: 'task.assign', assignments: [{ taskId: 't1', nodeId: peerId(1), gpus: ['GPU-1', 'GPU-2'] }] }, T0),
  ],
  ['task.pending', stamp({ type: 'task.pending', updates: [{ taskId: 't1', message: 'no suitable node' }] }, T0)],
  ['task.desire', stamp({ type: 'task.desire', taskIds: ['t1', 't2'], desiredState: 'shutdown' }, T0)],
  [
    'task.report',
    stamp(
      {
        type: 'task.report',
        nodeId: peerId(1),
        reports: [
          {
            taskId: 't1',
            generation: 4,
            state: 'failed',
            message: 'exit 137',
            exitCode: 137,
            containerId: 'abc',
            restarts: 2,
          },
          {
            taskId: 't2',
            generation: 5,
            state: 'running',
            message: '',
            exitCode: null,
            containerId: null,
            restarts: 0,
          },
        ],
      },
      T0,
    ),
  ],
  ['node.setStatus', stamp({ type: 'node.setStatus', id: peerId(1), status: 'down' }, T0)],
  ['task.remove', stamp({ type: 'task.remove', taskIds: ['t1'] }, T0)],
];

type Fields = Record<string, unknown>;
const report = {
  taskId: 't1',
  generation: 1,
  state: 'running',
  message: '',
  exitCode: null,
  containerId: null,
  restarts: 0,
};
const deployWith = (change: (service: Fields, spec: Fields) => void): Fields => {
  const spec: Fields = JSON.parse(JSON.stringify(api)) as Fields;
  const service: Fields = { name: 'api', spec, specHash: 'a'.repeat(64) };
  change(service, spec);
  return { ...deploy, services: [service] };
};

describe('validateCommand() of workload commands', () => {
  it.each(valid)('accepts %s', (_what, command) => {
    expect(validateCommand(command)).toEqual(command);
  });

  it.each(valid)('round-trips %s through CBOR', (_what, command) => {
    expect(decodeCommand(encodeCommand(command))).toEqual(command);
  });

  it('copies the spec of a deploy, keeping fields a newer parser may add', () => {
    const input = deployWith((_service, spec) => {
      spec.future = { nested: [1, 'two', null] };
    });
    const checked = validateCommand(input) as typeof deploy;
    const spec = (input.services as Array<{ spec: Fields }>)[0]!.spec;
    expect(checked.services[0]!.spec).toEqual(spec);
    expect(checked.services[0]!.spec).not.toBe(spec);
    expect(checked.services[0]!.spec.deploy).not.toBe(spec.deploy);
  });

  it.each<[string, Fields, string]>([
    [
      'an empty stack',
      { ...deploy, services: [] },
      'stack.deploy: services: must not be empty: a stack has at least one service',
    ],
    ['a bad stack name', { ...deploy, name: 'Web' }, 'stack.deploy: name: expected a stack name'],
    [
      'a bad service name',
      deployWith((s) => (s.name = '-api')),
      'stack.deploy: services[0].name: expected a service name',
    ],
    [
      'a spec of another service',
      deployWith((_s, spec) => (spec.name = 'web')),
      'stack.deploy: services[0].spec.name: expected "api" (the service\'s name), got "web"',
    ],
    [
      'a spec without image',
      deployWith((_s, spec) => delete spec.image),
      'stack.deploy: services[0].spec.image: is required',
    ],
    [
      'a spec of an unknown kind',
      deployWith((_s, spec) => (spec.kind = 'daemon')),
      'stack.deploy: services[0].spec.kind: expected one of "replicated", "global", "job", "cron", got "daemon"',
    ],
    [
      'negative replicas in the spec',
      deployWith((_s, spec) => ((spec.deploy as Fields).replicas = -1)),
      'stack.deploy: services[0].spec.deploy.replicas: expected an integer in 0..10000, got -1',
    ],
    [
      'a spec that is not an object',
      deployWith((s) => (s.spec = 'nginx')),
      'stack.deploy: services[0].spec: expected a service spec (an object), got "nginx"',
    ],
    [
      'an env value that is not text',
      deployWith((_s, spec) => (spec.env = { A: 1 })),
      'stack.deploy: services[0].spec.env.A: expected a string, got 1',
    ],
    [
      'a non-finite number inside the spec',
      deployWith((_s, spec) => (spec.job = { retries: Infinity })),
      'stack.deploy: services[0].spec.job.retries: expected a finite number, got Infinity',
    ],
    [
      'a bad spec hash',
      deployWith((s) => (s.specHash = 'abc')),
      'stack.deploy: services[0].specHash: expected 64 lowercase hex characters (hashService())',
    ],
    [
      'two services of one name',
      { ...deploy, services: [deploy.services[1], deploy.services[1]] },
      'stack.deploy: services[1]: duplicate service "api"',
    ],
    [
      'an unknown stack field',
      { ...deploy, services: deploy.services, replicas: 3 },
      'stack.deploy: replicas: unknown field',
    ],
    [
      'too many replicas',
      { v: 1, type: 'service.scale', serviceId: 'web_api', replicas: 10_001, at: T0 },
      'service.scale: replicas: expected an integer in 0..10000, got 10001',
    ],
    [
      'a service id without stack',
      { v: 1, type: 'service.scale', serviceId: 'api', replicas: 1, at: T0 },
      'service.scale: serviceId: expected a service id "<stack>_<service>", got "api"',
    ],
    ['no tasks to create', { v: 1, type: 'task.create', tasks: [], at: T0 }, 'task.create: tasks: must not be empty'],
    [
      'a task id that could be "__proto__"',
      {
        v: 1,
        type: 'task.create',
        tasks: [{ id: '__proto__', serviceId: 'web_api', slot: 1, serviceVersion: 1 }],
        at: T0,
      },
      'task.create: tasks[0].id: expected a task id',
    ],
    [
      'two tasks of one id',
      {
        v: 1,
        type: 'task.create',
        tasks: [
          { id: 't1', serviceId: 'web_api', slot: 1, serviceVersion: 1 },
          { id: 't1', serviceId: 'web_api', slot: 2, serviceVersion: 1 },
        ],
        at: T0,
      },
      'task.create: tasks[1]: duplicate task id "t1"',
    ],
    [
      'a task of version 0',
      { v: 1, type: 'task.create', tasks: [{ id: 't1', serviceId: 'web_api', slot: 1, serviceVersion: 0 }], at: T0 },
      'task.create: tasks[0].serviceVersion: expected an integer >= 1, got 0',
    ],
    [
      'a pinned node that is not a peer id',
      {
        v: 1,
        type: 'task.create',
        tasks: [{ id: 't1', serviceId: 'web_api', slot: 0, serviceVersion: 1, nodeId: 'n1' }],
        at: T0,
      },
      'task.create: tasks[0].nodeId: expected a libp2p peer id',
    ],
    [
      'an assignment without gpus',
      { v: 1, type: 'task.assign', assignments: [{ taskId: 't1', nodeId: peerId(1) }], at: T0 },
      'task.assign: assignments[0].gpus: is required',
    ],
    [
      'one GPU assigned twice',
      { v: 1, type: 'task.assign', assignments: [{ taskId: 't1', nodeId: peerId(1), gpus: ['G', 'G'] }], at: T0 },
      'task.assign: assignments[0].gpus[1]: duplicate GPU "G"',
    ],
    [
      'a report of a state only the leader sets',
      { v: 1, type: 'task.report', nodeId: peerId(1), reports: [{ ...report, state: 'orphaned' }], at: T0 },
      'task.report: reports[0].state: expected one of "assigned", "preparing", "starting", "running", "complete", "shutdown", "failed", "rejected", got "orphaned"',
    ],
    [
      'a report message that is too long',
      { v: 1, type: 'task.report', nodeId: peerId(1), reports: [{ ...report, message: 'x'.repeat(4097) }], at: T0 },
      'task.report: reports[0].message: expected at most 4096 characters, got 4097',
    ],
    [
      'a fractional exit code',
      { v: 1, type: 'task.report', nodeId: peerId(1), reports: [{ ...report, exitCode: 1.5 }], at: T0 },
      'task.report: reports[0].exitCode: expected an integer in -2147483648..2147483647, got 1.5',
    ],
    [
      'two reports of one task',
      { v: 1, type: 'task.report', nodeId: peerId(1), reports: [report, report], at: T0 },
      'task.report: reports[1]: duplicate task id "t1"',
    ],
    [
      'a status that is an availability',
      { v: 1, type: 'node.setStatus', id: peerId(1), status: 'drain', at: T0 },
      'node.setStatus: status: expected one of "ready", "down", got "drain"',
    ],
    [
      'an unknown desired state',
      { v: 1, type: 'task.desire', taskIds: ['t1'], desiredState: 'paused', at: T0 },
      'task.desire: desiredState: expected one of "running", "shutdown", got "paused"',
    ],
    [
      'nothing to remove',
      { v: 1, type: 'task.remove', taskIds: [], at: T0 },
      'task.remove: taskIds: must not be empty',
    ],
  ])('refuses %s', (_what, command, message) => {
    let error: unknown;
    try {
      validateCommand(command);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidCommandError);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message.startsWith(message.split(':')[0]!)).toBe(true);
  });
});
