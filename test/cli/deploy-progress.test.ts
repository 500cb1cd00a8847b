/**
 * waitForRollouts(): what `shoal stack deploy` prints while it waits, from scripted service views
 * (no agent, no clock: the sleep is injected).
 */
import type { ServiceUpdateView, ServiceView } from '../../src/api/types.js';
import { progressLine, waitForRollouts } from '../../src/cli/commands/deploy-progress.js';

function view(id: string, update: Partial<ServiceUpdateView>, version = 2): ServiceView {
  return {
    id,
    stack: 'web',
    name: id.slice(4),
    kind: 'replicated',
    image: 'nginx',
    running: 2,
    desired: 2,
    ports: [],
    version,
    updatedAt: 0,
    update: {
      state: 'updating',
      reason: '',
      fromVersion: version - 1,
      toVersion: version,
      updated: 0,
      failed: 0,
      total: 2,
      startedAt: 0,
      updatedAt: 0,
      ...update,
    },
  };
}

/** Runs the wait over `polls` (one list of views per poll); returns what it printed and its exit code. */
async function run(polls: ServiceView[][], tty: boolean): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  let i = 0;
  const code = await waitForRollouts(
    {
      fetchServices: async () => polls[Math.min(i++, polls.length - 1)]!,
      stdout: { write: (t: string) => (out += t) },
      stderr: { write: (t: string) => (err += t) },
    },
    { services: ['web_api', 'web_db'], tty, sleep: async () => undefined },
  );
  return { code, out, err };
}

const POLLS = [
  [view('web_api', {}), view('web_db', {})],
  [view('web_api', { updated: 1 }), view('web_db', {})],
  [view('web_api', { updated: 1 }), view('web_db', {})],
  [view('web_api', { state: 'completed', updated: 2 }), view('web_db', { state: 'completed', updated: 2 })],
];

describe('waitForRollouts()', () => {
  it('prints one line per change when not on a terminal, and exits 0 once all completed', async () => {
    const { code, out, err } = await run(POLLS, false);
    expect(code).toBe(0);
    expect(err).toBe('');
    expect(out).toBe(
      [
        'web_api   updating 0/2',
        'web_db    updating 0/2',
        'web_api   updating 1/2',
        'web_api   completed 2/2',
        'web_db    completed 2/2',
        '',
      ].join('\n'),
    );
  });

  it('redraws in place on a terminal', async () => {
    const { out } = await run(POLLS, true);
    const frames = out.split('\x1b[2A');
    expect(frames).toHaveLength(POLLS.length);
    expect(frames.at(-1)).toBe('\x1b[2Kweb_api   completed 2/2\n\x1b[2Kweb_db    completed 2/2\n');
  });

  it('exits 1 with the reason when a rollout paused or rolled back', async () => {
    const reason = 'automatic rollback to version 1: 1 of 2 new tasks failed';
    const polls = [[view('web_api', { state: 'rolled_back', reason }, 3), view('web_db', { state: 'completed' })]];
    const { code, err } = await run(polls, false);
    expect(code).toBe(1);
    expect(err).toBe(`shoal: web_api: rollout rolled back: ${reason}\n`);
  });

  it('waits for the rollout of the current version, not an earlier one', async () => {
    const stale = view('web_api', { state: 'completed', toVersion: 1 });
    const polls = [[stale, view('web_db', { state: 'completed' })], POLLS[3]!];
    // the first poll's "completed" is version 1's: the wait goes on to the second poll
    expect((await run(polls, false)).out).toContain('web_api   completed 2/2\n');
  });

  it('progressLine() counts the desired tasks before the controller first counted', () => {
    expect(progressLine(view('web_api', { total: 0 }), 8)).toBe('web_api    updating 0/2');
  });
});
