/**
 * Settled tasks: an ended task whose container is gone or exited costs nothing on later passes,
 * and is planned again as soon as its record or its container changes.
 */
import { planNode, type Action, type PlanInput } from '../../src/runtime/index.js';
import { assignment, container, task } from './fixtures.js';

const NODE = 'node-a';
const ended = (id: string) => task({ id, state: 'complete', containerId: `c-${id}` });
/** `[type, container]` of each action (`[type, task]` for a create). */
const what = (actions: readonly Action[]) =>
  actions.map((x) => [x.type, 'containerId' in x ? x.containerId : x.taskId]);
const exited = (id: string) =>
  container({ id: `c-${id}`, taskId: id, status: 'exited', exitCode: 0, finishedAt: 2000 });

function pass(input: Omit<PlanInput, 'nodeId' | 'now' | 'memory'> & { memory?: PlanInput['memory'] }) {
  return planNode({ nodeId: NODE, now: 5000, memory: {}, ...input });
}

describe('planNode() settled tasks', () => {
  it('an ended task with an exited container settles: no action, no report, no memory kept for it', () => {
    const a = assignment(ended('t1'));
    const c = exited('t1');
    const first = pass({ desired: [a], observed: [c] });
    expect(first.actions).toEqual([]);
    expect(first.reports).toEqual([]);
    expect([...first.settled.keys()]).toEqual(['t1']);

    const second = pass({ desired: [a], observed: [c], memory: first.memory, settled: first.settled });
    expect(second.settled.get('t1')).toBe(first.settled.get('t1'));
    expect(second.memory).toEqual({});
    expect(second.actions).toEqual([]);
  });

  it('a fresh observation of the same container (a driver that builds new objects) keeps it settled', () => {
    const a = assignment(ended('t1'));
    const first = pass({ desired: [a], observed: [exited('t1')] });
    const second = pass({ desired: [a], observed: [exited('t1')], settled: first.settled });
    expect(second.settled.get('t1')).toBe(first.settled.get('t1'));
  });

  it('a live task, or an ended task whose container still runs, never settles', () => {
    const live = assignment(task({ id: 't1', state: 'running' }));
    const stopping = assignment(task({ id: 't2', state: 'failed' }));
    const r = pass({
      desired: [live, stopping],
      observed: [container({ id: 'c-t1', taskId: 't1' }), container({ id: 'c-t2', taskId: 't2' })],
    });
    expect(r.settled.size).toBe(0);
    expect(r.actions.map((x) => [x.type, x.taskId])).toEqual([['stop', 't2']]);
  });

  it('a changed record is planned again: shut down, its container is removed', () => {
    const a = assignment(ended('t1'));
    const first = pass({ desired: [a], observed: [exited('t1')] });
    const shutdown = assignment({ ...a.task, desiredState: 'shutdown' });
    const r = pass({ desired: [shutdown], observed: [exited('t1')], settled: first.settled });
    expect(r.settled.size).toBe(0);
    expect(what(r.actions)).toEqual([['remove', 'c-t1']]);
  });

  it('a changed container is planned again: a duplicate is removed, a restarted one stopped', () => {
    const a = assignment(ended('t1'));
    const first = pass({ desired: [a], observed: [exited('t1')] });
    const duplicate = container({ id: 'c-dup', taskId: 't1', status: 'exited', finishedAt: 1000, startedAt: 500 });
    const withDuplicate = pass({ desired: [a], observed: [exited('t1'), duplicate], settled: first.settled });
    expect(what(withDuplicate.actions)).toEqual([['remove', 'c-dup']]);

    const restarted = container({ id: 'c-t1', taskId: 't1', status: 'running' });
    const r = pass({ desired: [a], observed: [restarted], settled: first.settled });
    expect(what(r.actions)).toEqual([['stop', 'c-t1']]);
    expect(r.settled.size).toBe(0);
  });

  it('a task no longer assigned leaves the settled set and its container is removed as a stray', () => {
    const first = pass({ desired: [assignment(ended('t1'))], observed: [exited('t1')] });
    const r = pass({ desired: [], observed: [exited('t1')], settled: first.settled });
    expect(r.settled.size).toBe(0);
    expect(what(r.actions)).toEqual([['remove', 'c-t1']]);
  });
  it('a settled task whose service is removed is planned again: its exited container is removed', () => {
    const a = assignment(ended('t1'));
    const first = pass({ desired: [a], observed: [exited('t1')] });
    const orphan = { task: a.task, service: null };
    const r = pass({ desired: [orphan], observed: [exited('t1')], settled: first.settled });
    expect(what(r.actions)).toEqual([['remove', 'c-t1']]);
    expect(r.settled.size).toBe(0);
  });

  it('the same container that ran again (a new finishedAt) is planned again', () => {
    const a = assignment(ended('t1'));
    const first = pass({ desired: [a], observed: [exited('t1')] });
    const again = container({ id: 'c-t1', taskId: 't1', status: 'exited', exitCode: 0, finishedAt: 4000 });
    const r = pass({ desired: [a], observed: [again], settled: first.settled });
    expect(r.settled.get('t1')).not.toBe(first.settled.get('t1'));
    expect(r.settled.get('t1')?.container).toBe(again);
  });
});
