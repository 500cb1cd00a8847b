import { decode, encode } from 'cbor-x';
import {
  ClusterStateMachine,
  InvalidSnapshotError,
  decodeIndexedState,
  decodeState,
  encodeState,
  plainState,
} from '../../src/state/index.js';
import { T0, peerId } from './helpers.js';
import { applyAll, reportOf, running } from './workload-helpers.js';

type Fields = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A machine with a stack, services, tasks in several states and a down node. */
function busy(): ClusterStateMachine {
  const machine = running();
  applyAll(machine, [
    reportOf(1, 'web-api-1', 1, 'running', T0 + 40, { restarts: 1 }),
    reportOf(2, 'web-api-2', 2, 'failed', T0 + 41, { exitCode: 137, message: 'OOM killed' }),
  ]);
  return machine;
}

describe('snapshots with workloads', () => {
  it('round-trip stacks, services, tasks, counters and node status', () => {
    const machine = busy();
    const { state, appliedIndex } = decodeState(machine.snapshot(), machine.appliedIndex);
    expect(appliedIndex).toBe(machine.appliedIndex);
    expect(state).toEqual(machine.state());
    expect(state.counters).toEqual({ assignment: 2, job: 1 });
    expect(state.nodes[peerId(1)]).toMatchObject({ status: 'ready', statusChangedAt: T0 + 1 });
    expect(Object.isFrozen(state.tasks['web-api-1'])).toBe(true);
  });

  it('restore() gives a machine whose accessors answer like the original', () => {
    const machine = busy();
    const restored = new ClusterStateMachine();
    restored.restore(machine.snapshot(), machine.appliedIndex);
    expect(restored.tasksOnNode(peerId(2))).toEqual(machine.tasksOnNode(peerId(2)));
    expect(restored.servicesOfStack('web')).toEqual(machine.servicesOfStack('web'));
    expect(restored.snapshot()).toEqual(machine.snapshot());
  });

  it('encodeState() of the indexed state gives the bytes of the plain state (no record built)', () => {
    const machine = busy();
    const view = machine.view();
    expect(encodeState(view, 9)).toEqual(encodeState(plainState(view), 9));
    expect(machine.snapshot()).toEqual(encodeState(machine.state(), machine.appliedIndex));
  });

  it('decodeIndexedState() builds the table the plain decode would index, frozen', () => {
    const machine = busy();
    const bytes = machine.snapshot();
    const { state } = decodeIndexedState(bytes, machine.appliedIndex);
    expect(plainState(state)).toEqual(decodeState(bytes).state);
    expect(state.tasks.onNode(peerId(2)).size).toBe(machine.tasksOnNode(peerId(2)).length);
    expect(Object.isFrozen(state.tasks.get('web-api-1'))).toBe(true);
    expect(Object.isFrozen(state.nodes[peerId(1)])).toBe(true);
  });

  it.each<[string, (s: Fields) => void, RegExp]>([
    [
      'a node without status',
      (s) => delete s.nodes[peerId(1)].status,
      /state\.nodes\.12D3KooW0001\w+\.status: is required/,
    ],
    ['no counters', (s) => delete s.counters, /state\.counters: is required/],
    [
      'a task filed under another id',
      (s) => (s.tasks['web-api-1'].id = 'web-api-7'),
      /state\.tasks\.web-api-1\.id: does not match the key it is filed under, got "web-api-7"/,
    ],
    [
      'a task generation above the counter',
      (s) => (s.tasks['web-api-1'].generation = 3),
      /state\.tasks\.web-api-1\.generation: is above the assignment counter \(2\), got 3/,
    ],
    [
      'a task in an unknown state',
      (s) => (s.tasks['web-api-1'].state = 'zombie'),
      /state\.tasks\.web-api-1\.state: expected one of "new"/,
    ],
    [
      'a service the stack does not list',
      (s) => (s.stacks.web.services = ['web_agent', 'web_batch']),
      /state\.services\.web_api\.stack: stack "web" does not list it/,
    ],
    [
      'a stack listing a missing service',
      (s) => (s.stacks.web.services = ['web_agent', 'web_api', 'web_batch', 'web_db']),
      /state\.stacks\.web\.services\[3\]: service "web_db" is not a service of this stack/,
    ],
    [
      'a service whose id, stack and name disagree',
      (s) => (s.services.web_api.name = 'apx') && (s.services.web_api.spec.name = 'apx'),
      /state\.services\.web_api: id, stack and name disagree: expected id "web_apx"/,
    ],
    [
      'a service spec without image',
      (s) => delete s.services.web_api.spec.image,
      /state\.services\.web_api\.spec\.image: is required/,
    ],
    [
      'an unknown task field',
      (s) => (s.tasks['web-api-1'].color = 'red'),
      /state\.tasks\.web-api-1\.color: unknown field/,
    ],
  ])('are refused with %s', (_what, breakIt, message) => {
    const envelope = decode(busy().snapshot()) as Fields;
    breakIt(envelope.state);
    const bytes = encode(envelope);
    expect(() => decodeState(bytes)).toThrow(InvalidSnapshotError);
    expect(() => decodeState(bytes)).toThrow(message);
  });
});
