/**
 * What the node's runtime observed, on its way to the cluster as `task.report` commands: at most
 * one command per 100 ms, the newest report per task wins, and a failed send keeps the reports for
 * the next burst. A report after a quiet spell goes almost at once (a task that just started
 * running is what a held cold-start connection waits for: batching it cost 100 ms of every cold
 * start), and so does an ended task (it frees resources the queue may be waiting for); the rest of
 * a burst waits for the next slot.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../raft/driver/index.js';
import type { TaskReport } from '../runtime/index.js';
import { isTerminal } from '../state/workloads.js';
import type { ProposeOptions } from './cluster-store.js';
import type { CommandInput } from '../state/index.js';

const REPORT_FLUSH_MS = 100;
const URGENT_REPORT_FLUSH_MS = 5;
const RETRY_MS = 1_000;

export interface ReportOutboxDeps {
  readonly selfId: string;
  readonly propose: (command: CommandInput, options: ProposeOptions) => Promise<unknown>;
  readonly clock: Clock;
  readonly log: Logger;
}

export class ReportOutbox {
  readonly #deps: ReportOutboxDeps;
  /** Reports waiting to be sent: the newest per task wins. */
  readonly #outbox = new Map<string, TaskReport>();
  #flushTimer: TimerHandle | null = null;
  #flushUrgent = false;
  /** When the last command was sent (the clock's time). */
  #lastFlushAt = -Infinity;

  constructor(deps: ReportOutboxDeps) {
    this.#deps = deps;
  }

  queue(reports: readonly TaskReport[]): void {
    for (const report of reports) this.#outbox.set(report.taskId, report);
    const urgent = reports.some((r) => isTerminal(r.state));
    if (urgent && this.#flushTimer && !this.#flushUrgent) {
      this.#deps.clock.clearTimeout(this.#flushTimer);
      this.#flushTimer = null;
    }
    if (urgent) this.#flushUrgent = true;
    const nextSlot = this.#lastFlushAt + REPORT_FLUSH_MS - this.#deps.clock.now();
    this.#flushTimer ??= this.#deps.clock.setTimeout(
      () => void this.#flush(),
      this.#flushUrgent ? URGENT_REPORT_FLUSH_MS : Math.max(URGENT_REPORT_FLUSH_MS, nextSlot),
    );
  }

  stop(): void {
    if (this.#flushTimer) this.#deps.clock.clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
  }

  async #flush(): Promise<void> {
    this.#flushTimer = null;
    this.#flushUrgent = false;
    if (this.#outbox.size === 0) return;
    this.#lastFlushAt = this.#deps.clock.now();
    const reports = [...this.#outbox.values()].map((r) => ({ ...r, message: r.message.slice(0, 4000) }));
    this.#outbox.clear();
    try {
      await this.#deps.propose({ type: 'task.report', nodeId: this.#deps.selfId, reports }, { deadlineMs: 5_000 });
    } catch (error) {
      this.#deps.log.warn({ err: error, reports: reports.length }, 'could not report task states; retrying');
      for (const report of reports) if (!this.#outbox.has(report.taskId)) this.#outbox.set(report.taskId, report);
      this.#flushTimer ??= this.#deps.clock.setTimeout(() => void this.#flush(), RETRY_MS);
    }
  }
}
