import { DEFAULT_BACKOFF, backoffDelay, failureStreak, slotReadyAt } from '../../src/controllers/index.js';
import type { TaskRecord, TaskState } from '../../src/state/workloads.js';
import { spec } from './support/world.js';

/** A task of slot 1 created at `createdAt` (seconds) and ended at `endedAt`. */
function ended(
  id: string,
  state: TaskState,
  createdAt: number,
  endedAt: number,
  desired: 'running' | 'shutdown' = 'running',
): TaskRecord {
  return {
    id,
    serviceId: 'app_web',
    slot: 1,
    serviceVersion: 1,
    nodeId: 'n',
    generation: 1,
    gpus: [],
    desiredState: desired,
    state,
    message: '',
    exitCode: null,
    containerId: null,
    restarts: 0,
    createdAt: createdAt * 1000,
    updatedAt: endedAt * 1000,
  };
}

describe('backoffDelay()', () => {
  it.each([
    [0, 5000, 0],
    [1, 5000, 5000],
    [2, 5000, 10_000],
    [4, 5000, 40_000],
    [10, 5000, 300_000], // capped
    [1, 0, 1000], // floor for a zero restart delay
    [3, 0, 4000],
    [1000, 5000, 300_000], // no overflow
  ])('streak %i with delay %i waits %i ms', (streak, delay, expected) => {
    expect(backoffDelay(streak, delay, DEFAULT_BACKOFF)).toBe(expected);
  });
});

describe('failureStreak()', () => {
  it.each([
    ['no history', [], 0],
    [
      'three quick failures',
      [ended('a', 'failed', 0, 1), ended('b', 'failed', 5, 6), ended('c', 'rejected', 15, 16)],
      3,
    ],
    [
      'a deliberate stop ends it',
      [ended('a', 'failed', 0, 1), ended('b', 'shutdown', 5, 6, 'shutdown'), ended('c', 'failed', 15, 16)],
      1,
    ],
    [
      'an orphan ends it',
      [ended('a', 'failed', 0, 1), ended('b', 'orphaned', 5, 6, 'shutdown'), ended('c', 'failed', 15, 16)],
      1,
    ],
    [
      'a long run ends it (and counts)',
      [ended('a', 'failed', 0, 1), ended('b', 'failed', 5, 3600), ended('c', 'failed', 3605, 3606)],
      2,
    ],
    ['live tasks are ignored', [ended('a', 'failed', 0, 1), ended('b', 'running', 5, 6)], 1],
  ])('%s → %i', (_name, tasks, expected) => {
    expect(failureStreak(tasks)).toBe(expected);
  });
});

describe('slotReadyAt()', () => {
  const policy = spec({ restart: { delayMs: 5000 } }).deploy.restartPolicy;

  it('is the newest end plus the delay for the streak', () => {
    const tasks = [ended('a', 'failed', 0, 1), ended('b', 'failed', 6, 7)];
    expect(slotReadyAt(tasks, policy)).toBe(7000 + 10_000);
  });

  it('is 0 when the newest task was stopped on purpose or lost with its node', () => {
    expect(slotReadyAt([ended('a', 'failed', 0, 1), ended('b', 'shutdown', 6, 7, 'shutdown')], policy)).toBe(0);
    expect(slotReadyAt([ended('a', 'orphaned', 0, 1, 'shutdown')], policy)).toBe(0);
  });
});
