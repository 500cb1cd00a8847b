/**
 * A rough look at the cost of workload commands on a 10,000-task state. Figures are printed,
 * never asserted (the machine is shared); what is asserted is that the work was done.
 */
import { ClusterStateMachine, encodeCommand, type Command, type TaskReport } from '../../src/state/index.js';
import { T0, init, peerId, register } from './helpers.js';
import { WEB, applyNext, deployOf, stamp } from './workload-helpers.js';

const TASKS = 10_000;
const NODES = 100;
const taskId = (i: number) => `t${String(i).padStart(5, '0')}`;
const nodeOf = (i: number) => 1 + (i % NODES);

function time<T>(what: string, rounds: number, run: (round: number) => T, figures: string[]): T {
  let last: T | undefined;
  const start = performance.now();
  for (let round = 0; round < rounds; round++) last = run(round);
  const ms = (performance.now() - start) / rounds;
  figures.push(`${what.padEnd(58)} ${ms.toFixed(2).padStart(9)} ms${rounds > 1 ? ` (mean of ${rounds})` : ''}`);
  return last!;
}

describe('workload commands on 10,000 tasks (figures printed, not asserted)', () => {
  it('stay cheap per command: one copy of the task map at most, none for a report that changes nothing', () => {
    const figures: string[] = [];
    const machine = new ClusterStateMachine();
    for (const command of [init(), ...Array.from({ length: NODES }, (_, n) => register(n + 1)), deployOf(WEB, T0 + 1)])
      expect(applyNext(machine, command).ok).toBe(true);

    const create = stamp(
      {
        type: 'task.create',
        tasks: Array.from({ length: TASKS }, (_, i) => ({
          id: taskId(i),
          serviceId: 'web_api',
          slot: i + 1,
          serviceVersion: 1,
        })),
      },
      T0 + 2,
    );
    time('task.create of 10,000 tasks (encode + decode + apply)', 1, () => applyNext(machine, create), figures);
    const assign = stamp(
      {
        type: 'task.assign',
        assignments: Array.from({ length: TASKS }, (_, i) => ({
          taskId: taskId(i),
          nodeId: peerId(nodeOf(i)),
          gpus: [],
        })),
      },
      T0 + 3,
    );
    time('task.assign of 10,000 tasks (encode + decode + apply)', 1, () => applyNext(machine, assign), figures);
    expect(machine.state().counters.assignment).toBe(TASKS);
    expect(machine.tasksOnNode(peerId(1))).toHaveLength(TASKS / NODES);

    const report = (i: number, state: TaskReport['state'], at: number): Command => {
      const task = machine.task(taskId(i))!;
      return stamp(
        {
          type: 'task.report',
          nodeId: task.nodeId!,
          reports: [
            {
              taskId: task.id,
              generation: task.generation,
              state,
              message: '',
              exitCode: null,
              containerId: `c${i}`,
              restarts: 0,
            },
          ],
        },
        at,
      );
    };
    // Encoding is the proposer's cost; what every peer pays per entry is decode + apply.
    const changed = Array.from({ length: 200 }, (_, i) => encodeCommand(report(i, 'running', T0 + 10 + i)));
    time(
      'task.report changing 1 task (decode + apply)',
      changed.length,
      (i) => applyNext(machine, changed[i]!),
      figures,
    );
    expect(machine.task(taskId(199))!.state).toBe('running');

    const before = machine.state();
    const unchanged = Array.from({ length: 200 }, (_, i) => encodeCommand(report(i, 'running', T0 + 500 + i)));
    time(
      'task.report that changes nothing (decode + apply)',
      unchanged.length,
      (i) => applyNext(machine, unchanged[i]!),
      figures,
    );
    expect(machine.state()).toBe(before);

    // One "second" of a 100-node cluster: every node reports all of its 100 tasks as running.
    const perNode = Array.from({ length: NODES }, (_, n) => {
      const node = n + 1;
      const reports = machine.tasksOnNode(peerId(node)).map((t) => ({
        taskId: t.id,
        generation: t.generation,
        state: 'running' as const,
        message: '',
        exitCode: null,
        containerId: `c-${t.id}`,
        restarts: 0,
      }));
      return encodeCommand(stamp({ type: 'task.report', nodeId: peerId(node), reports }, T0 + 1000 + n));
    });
    time(
      '100 nodes x task.report of 100 tasks each (all 100 commands)',
      1,
      () => perNode.forEach((d) => applyNext(machine, d)),
      figures,
    );
    expect(machine.tasks().every((t) => t.state === 'running')).toBe(true);
    const settled = machine.state();
    time(
      'the same 100 reports again, nothing new (all 100 commands)',
      1,
      () => perNode.forEach((d) => applyNext(machine, d)),
      figures,
    );
    expect(machine.state()).toBe(settled);

    applyNext(machine, report(0, 'failed', T0 + 3000));
    time('tasksOnNode() after a change (index rebuilt)', 1, () => machine.tasksOnNode(peerId(1)), figures);
    time('tasksOnNode() again (cached index)', 100, () => machine.tasksOnNode(peerId(2)), figures);
    const down = stamp({ type: 'node.setStatus', id: peerId(3), status: 'down' }, T0 + 4000);
    time('node.setStatus down, orphaning 100 tasks', 1, () => applyNext(machine, down), figures);
    expect(machine.tasksOnNode(peerId(3)).every((t) => t.state === 'orphaned')).toBe(true);

    const bytes = time('snapshot() of 10,000 tasks', 1, () => machine.snapshot(), figures);
    const restored = new ClusterStateMachine();
    time(
      'restore() of 10,000 tasks (decode + validate)',
      1,
      () => restored.restore(bytes, machine.appliedIndex),
      figures,
    );
    expect(restored.state()).toEqual(machine.state());
    figures.push(`snapshot size: ${(bytes.length / 1024).toFixed(0)} KiB`);
    console.log(`workload state, ${TASKS} tasks on ${NODES} nodes:\n${figures.join('\n')}`);
  });
});
