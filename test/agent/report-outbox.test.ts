/** The node's task reports on their way to the cluster, on a manual clock with a recording propose. */
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { ReportOutbox } from '../../src/agent/report-outbox.js';
import type { TaskReport } from '../../src/runtime/index.js';
import type { CommandInput } from '../../src/state/index.js';
import type { TaskState } from '../../src/state/workloads.js';
import { ManualClock } from '../runtime/memory-driver.js';

function setup() {
  const clock = new ManualClock();
  /** Each proposed command's reports, as `taskId:state`, with the clock's time it went at. */
  const sent: { at: number; reports: string[] }[] = [];
  const outbox = new ReportOutbox({
    selfId: 'n1',
    clock,
    log: pino({ level: 'silent' }),
    propose: (command: CommandInput) => {
      if (command.type === 'task.report')
        sent.push({ at: clock.now() - start, reports: command.reports.map((r) => `${r.taskId}:${r.state}`) });
      return Promise.resolve(null);
    },
  });
  const start = clock.now();
  /** Moves the clock in 1 ms steps (each timer fires when due). */
  const advance = (ms: number) => {
    for (let i = 0; i < ms; i++) clock.advance(1);
  };
  return { outbox, sent, advance };
}

const report = (taskId: string, state: TaskState): TaskReport => ({
  taskId,
  generation: 1,
  state,
  message: '',
  exitCode: null,
  containerId: null,
  restarts: 0,
});

describe('ReportOutbox', () => {
  it('queue() sends a report after a quiet spell within 5 ms: a task now running is what a cold start waits for', () => {
    const { outbox, sent, advance } = setup();
    outbox.queue([report('t1', 'running')]);
    advance(5);
    expect(sent).toEqual([{ at: 5, reports: ['t1:running'] }]);
  });

  it('queue() sends at most one command per 100 ms during a burst, the newest report per task', () => {
    const { outbox, sent, advance } = setup();
    outbox.queue([report('t1', 'starting')]);
    advance(10);
    outbox.queue([report('t2', 'starting')]);
    advance(30);
    outbox.queue([report('t3', 'starting')]);
    outbox.queue([report('t2', 'running')]);
    advance(200);
    outbox.queue([report('t3', 'running')]);
    advance(10);
    expect(sent).toEqual([
      { at: 5, reports: ['t1:starting'] },
      { at: 105, reports: ['t2:running', 't3:starting'] },
      { at: 245, reports: ['t3:running'] },
    ]);
  });

  it('queue() sends an ended task within 5 ms even right after another command', () => {
    const { outbox, sent, advance } = setup();
    outbox.queue([report('t1', 'running')]);
    advance(10);
    outbox.queue([report('t2', 'running')]);
    advance(10);
    outbox.queue([report('t1', 'failed')]);
    advance(5);
    expect(sent).toEqual([
      { at: 5, reports: ['t1:running'] },
      { at: 25, reports: ['t2:running', 't1:failed'] },
    ]);
  });
});
