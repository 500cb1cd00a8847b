import {
  backoffDelay,
  BACKOFF_RESET_MS,
  decideAfterExit,
  freshMemory,
  markRestarted,
  MAX_BACKOFF_MS,
  type ExitEvent,
} from '../../src/runtime/index.js';
import type { RestartPolicySpec } from '../../src/stack/spec.js';
import { task } from './fixtures.js';

const policy = (p: Partial<RestartPolicySpec>): RestartPolicySpec => ({
  condition: 'any',
  delayMs: 100,
  maxAttempts: 0,
  windowMs: 0,
  ...p,
});
const exit = (code: number, ranMs: number | null = 10): ExitEvent => ({
  exitCode: code,
  ranMs,
  reason: `exited with code ${code}`,
  clean: code === 0,
});

describe('backoffDelay()', () => {
  it.each([
    [100, 0, 100],
    [100, 1, 200],
    [100, 2, 400],
    [100, 5, 3200],
    [5000, 0, 5000],
    [5000, 6, 300_000],
    [5000, 60, MAX_BACKOFF_MS],
    [0, 0, 0],
    [0, 1, 2000],
    [0, 2, 4000],
    [400_000, 0, MAX_BACKOFF_MS],
  ])('delay %ims, step %i waits %ims', (delay, step, expected) => {
    expect(backoffDelay(delay, step)).toBe(expected);
  });
});

describe('decideAfterExit()', () => {
  const fresh = freshMemory(task({ id: 't1' }));

  it.each([
    // condition, exit code, attempts so far, maxAttempts, outcome
    ['none', 0, 0, 0, 'complete'],
    ['none', 1, 0, 0, 'failed'],
    ['on-failure', 0, 0, 0, 'complete'],
    ['on-failure', 1, 0, 0, 'restart'],
    ['on-failure', 1, 2, 3, 'restart'],
    ['on-failure', 1, 3, 3, 'failed'],
    ['any', 0, 0, 0, 'restart'],
    ['any', 0, 3, 3, 'complete'],
    ['any', 137, 100, 0, 'restart'],
  ] as const)('condition %s, exit %i after %i of %i attempts: %s', (condition, code, attempts, max, outcome) => {
    const mem = decideAfterExit({ ...fresh, attempts }, policy({ condition, maxAttempts: max }), exit(code), 1000);
    if (outcome === 'restart') {
      expect(mem.terminal).toBeNull();
      expect(mem.nextRestartAt).toBe(1100);
    } else {
      expect(mem.terminal).toBe(outcome);
      expect(mem.nextRestartAt).toBeNull();
    }
    expect(mem.exitCode).toBe(code);
  });

  it('decideAfterExit() says why it gave up', () => {
    const mem = decideAfterExit(
      { ...fresh, attempts: 3 },
      policy({ condition: 'on-failure', maxAttempts: 3 }),
      exit(2),
      0,
    );
    expect(mem.message).toBe('exited with code 2; gave up after 3 restarts (max_attempts 3)');
    const none = decideAfterExit(fresh, policy({ condition: 'none' }), exit(2), 0);
    expect(none.message).toBe('exited with code 2 (restart policy: none)');
  });

  it('decideAfterExit() grows the delay with consecutive restarts', () => {
    let mem = fresh;
    const due: number[] = [];
    for (let i = 0; i < 4; i++) {
      mem = decideAfterExit(mem, policy({ delayMs: 100 }), exit(1), 0);
      due.push(mem.nextRestartAt!);
      mem = markRestarted(mem);
    }
    expect(due).toEqual([100, 200, 400, 800]);
    expect(mem.restarts).toBe(4);
  });

  it('decideAfterExit() resets back-off and attempts after a run as long as the window', () => {
    const mem = { ...fresh, attempts: 2, backoffStep: 4 };
    const p = policy({ condition: 'on-failure', maxAttempts: 3, windowMs: 60_000 });
    const short = decideAfterExit(mem, p, exit(1, 59_999), 0);
    expect(short.nextRestartAt).toBe(1600);
    const long = decideAfterExit(mem, p, exit(1, 60_000), 0);
    expect(long.nextRestartAt).toBe(100);
    expect(long.attempts).toBe(0);
  });

  it('decideAfterExit() without a window resets only the back-off after a long run, attempts count forever', () => {
    const mem = { ...fresh, attempts: 2, backoffStep: 4 };
    const p = policy({ condition: 'on-failure', maxAttempts: 3 });
    const long = decideAfterExit(mem, p, exit(1, BACKOFF_RESET_MS), 0);
    expect(long.nextRestartAt).toBe(100);
    expect(long.attempts).toBe(2);
  });
});
