import { EventEmitter } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { LeaderScope, type LeaderTask } from '../../src/agent/leader-scope.js';

/** A leader-only part that writes down what it was told. */
function task(name: string, journal: string[]): LeaderTask {
  return { start: () => journal.push(`start ${name}`), stop: () => journal.push(`stop ${name}`) };
}

function scope(journal: string[]) {
  const leadership = new EventEmitter<{ 'leader:change': [leader: string | null, term: number] }>();
  const leaderScope = new LeaderScope({
    selfId: 'me',
    leadership,
    tasks: [task('health', journal), task('membership', journal), task('controllers', journal)],
    log: pino({ level: 'silent' }),
  });
  return { leadership, leaderScope };
}

describe('LeaderScope', () => {
  it('start() runs every leader-only part in order when this node takes the lead, and stops them in reverse when it loses it', () => {
    const journal: string[] = [];
    const { leadership, leaderScope } = scope(journal);
    leaderScope.start();
    leadership.emit('leader:change', 'other', 1);
    expect(journal).toEqual([]);
    leadership.emit('leader:change', 'me', 2);
    expect(leaderScope.leading).toBe(true);
    leadership.emit('leader:change', 'me', 2);
    leadership.emit('leader:change', null, 3);
    expect(leaderScope.leading).toBe(false);
    expect(journal).toEqual([
      'start health',
      'start membership',
      'start controllers',
      'stop controllers',
      'stop membership',
      'stop health',
    ]);
  });

  it('stop() stops the running parts and no longer follows leadership', () => {
    const journal: string[] = [];
    const { leadership, leaderScope } = scope(journal);
    leaderScope.start();
    leadership.emit('leader:change', 'me', 1);
    leaderScope.stop();
    leadership.emit('leader:change', 'me', 2);
    expect(journal).toEqual([
      'start health',
      'start membership',
      'start controllers',
      'stop controllers',
      'stop membership',
      'stop health',
    ]);
    expect(leadership.listenerCount('leader:change')).toBe(0);
  });
});
