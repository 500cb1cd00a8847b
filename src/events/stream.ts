/**
 * `GET /v1/events`: the events of the window from an index, filtered, then (with `follow`) new
 * ones as they happen. The stream reads the window at its own pace and holds no copy, so a slow
 * client costs no memory: when the window moves past it, it gets a last line saying so and the
 * stream ends.
 * @module
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { EventWindow } from './window.js';
import type { ClusterEvent, EventLine, EventQuery, StreamNotice } from './types.js';

/** Events sent before the stream lets other work run (a long catch-up never blocks the event loop). */
const BATCH = 256;

export interface StreamOptions {
  readonly signal?: AbortSignal;
  /** Wall clock for notices, ms. */
  readonly now?: () => number;
}

/**
 * The lines of one `GET /v1/events` request.
 * @example for await (const line of streamEvents(window, { index: 120, follow: true }, { signal })) send(line);
 */
export async function* streamEvents(
  window: EventWindow,
  query: EventQuery,
  options: StreamOptions = {},
): AsyncGenerator<EventLine> {
  const now = options.now ?? Date.now;
  const signal = options.signal;
  const matches = eventFilter(query);
  const from = query.index ?? 0;
  if (from > 0 && from < window.completeFrom) yield dropped(window, from, now());
  let seq = window.seqAt(from);
  let sent = 0;
  for (;;) {
    while (seq < window.nextSeq) {
      if (signal?.aborted === true) return;
      if (seq < window.firstSeq) {
        yield lagged(window, now());
        return;
      }
      const event = window.get(seq++)!;
      if (matches(event)) yield event;
      if (++sent % BATCH === 0) await nextTurn();
    }
    if (query.follow !== true || signal?.aborted === true) return;
    await window.wait(seq, signal);
  }
}

/** Whether an event passes the query's type, name and time filters. */
export function eventFilter(query: EventQuery): (event: ClusterEvent) => boolean {
  const types = query.types !== undefined && query.types.length > 0 ? new Set<string>(query.types) : null;
  const names = query.names !== undefined && query.names.length > 0 ? new Set(query.names) : null;
  const since = query.since ?? 0;
  return (event) =>
    event.time >= since &&
    (types === null || types.has(event.type)) &&
    (names === null ||
      names.has(event.name) ||
      [event.node, event.stack, event.service, event.task, event.job].some((n) => n !== undefined && names.has(n)));
}

function dropped(window: EventWindow, from: number, time: number): StreamNotice {
  const resume = window.completeFrom;
  return {
    type: 'stream',
    action: 'dropped',
    time,
    resume,
    message:
      `events from index ${from} to ${resume - 1} are no longer kept on this agent ` +
      `(it keeps the last ${window.maxEvents} events, or ${Math.round(window.maxBytes / 1024)} KiB, and what it applied since it started or restored a snapshot); ` +
      `what follows starts at index ${resume}`,
  };
}

function lagged(window: EventWindow, time: number): StreamNotice {
  const resume = window.get(window.firstSeq)?.index ?? window.completeFrom;
  return {
    type: 'stream',
    action: 'lagged',
    time,
    resume,
    message:
      `this client read events more slowly than they happened and fell out of the agent's window ` +
      `(${window.maxEvents} events); the stream ends here: resume from index ${resume} (some events were missed)`,
  };
}
