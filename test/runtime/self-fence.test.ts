/**
 * Self-fencing (issue 18 item 10): which services stop on a node cut off from the quorum, how
 * soon, and what the planner does with their tasks while the node is held.
 */
import { fenceAfterMs, FENCE_STOP_MS, planNode, stopsOnDisconnect } from '../../src/runtime/index.js';
import { formatStackError, parseStack } from '../../src/stack/index.js';
import { assignment, BASE_SPEC, container, serviceFromCompose, task } from './fixtures.js';

const NODE = 'node-a';
const HELD = { services: new Set(['app_web']), reason: 'this node lost the quorum' };

describe('stopsOnDisconnect()', () => {
  it.each([
    ['a plain replicated service', '', false],
    ['a replicated service with a named volume', 'volumes: ["data:/var/lib/db"]\n', true],
    [
      'one with a named volume and on_disconnect: keep',
      'volumes: ["data:/d"]\nx-shoal:\n  on_disconnect: keep\n',
      false,
    ],
    ['one without a volume and on_disconnect: stop', 'x-shoal:\n  on_disconnect: stop\n', true],
    ['a global service with a named volume', 'volumes: ["data:/d"]\ndeploy:\n  mode: global\n', false],
    ['a bind mount only', 'volumes: ["/srv:/srv"]\n', false],
  ])('%s', (_name, extra, stops) => {
    const spec = serviceFromCompose(
      `image: db:1\n${extra}`,
      'web',
      'app',
      extra.includes('data:') ? 'volumes:\n  data: {}\n' : '',
    );
    expect(stopsOnDisconnect(spec)).toBe(stops);
  });
});

describe('x-shoal.on_disconnect', () => {
  it('is refused with file, line and the values it takes when it is neither stop nor keep', () => {
    const result = parseStack('services:\n  db:\n    image: db:1\n    x-shoal:\n      on_disconnect: maybe\n', {
      file: 'compose.yml',
      name: 'app',
    });
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.errors.map(formatStackError).join('\n')).toMatch(
      /compose\.yml:5 .*on_disconnect.*stop.*keep/,
    );
  });
});

describe('fenceAfterMs()', () => {
  it('leaves the probe timeout, a probe period, the stop and a margin before the grace ends', () => {
    expect(fenceAfterMs(5_000)).toBe(2_000);
    expect(fenceAfterMs(60_000)).toBe(57_000);
    expect(fenceAfterMs(1_000)).toBe(1_000);
  });
});

describe('planNode() with held services', () => {
  it('stops a running task of a held service within the fence stop budget, and reports nothing', () => {
    const slow = { ...BASE_SPEC, stopGracePeriodMs: 30_000 };
    const a = assignment(task({ id: 't1', state: 'running' }), slow);
    const c = container({ id: 'c1', taskId: 't1' });
    const r = planNode({ nodeId: NODE, desired: [a], observed: [c], now: 0, memory: {}, held: HELD });
    expect(r.actions).toEqual([
      {
        type: 'stop',
        key: 't1',
        taskId: 't1',
        containerId: 'c1',
        graceMs: FENCE_STOP_MS,
        signal: 'SIGTERM',
        reason: 'this node lost the quorum',
      },
    ]);
    expect(r.reports).toEqual([]);
  });

  it('starts nothing for a held task, and starts it again once released', () => {
    const a = assignment(task({ id: 't1', state: 'running' }));
    const stopped = container({ id: 'c1', taskId: 't1', status: 'exited', exitCode: 143, finishedAt: 2000 });
    const held = planNode({ nodeId: NODE, desired: [a], observed: [stopped], now: 3000, memory: {}, held: HELD });
    expect(held.actions).toEqual([]);
    expect(held.reports).toEqual([]);
    const released = planNode({ nodeId: NODE, desired: [a], observed: [stopped], now: 3000, memory: held.memory });
    expect(released.actions.length + released.reports.length).toBeGreaterThan(0);
  });

  it('leaves tasks of other services alone', () => {
    const a = assignment(task({ id: 't1', state: 'running', serviceId: 'app_other' }));
    const c = container({ id: 'c1', taskId: 't1' });
    const r = planNode({ nodeId: NODE, desired: [a], observed: [c], now: 0, memory: {}, held: HELD });
    expect(r.actions).toEqual([]);
  });
});
