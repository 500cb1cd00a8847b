/**
 * The simulator's trace: a ring of the last events in readable text, or every event when
 * tracing a seed in full. A violation carries the ring so the failure can be read and replayed.
 */
import type { Entry, Message } from '../../../src/raft/types.js';

export class Trace {
  readonly #limit: number;
  readonly #ring: string[] = [];
  #start = 0;
  readonly #sink: ((line: string) => void) | null;

  /** Keep the last `limit` lines; with `sink`, also hand every line to it as it happens. */
  constructor(limit: number, sink: ((line: string) => void) | null = null) {
    this.#limit = limit;
    this.#sink = sink;
  }

  add(time: number, line: string): void {
    const text = `${time.toFixed(1).padStart(9)}  ${line}`;
    this.#sink?.(text);
    if (this.#ring.length < this.#limit) this.#ring.push(text);
    else {
      this.#ring[this.#start] = text;
      this.#start = (this.#start + 1) % this.#limit;
    }
  }

  /** The kept lines, oldest first. */
  lines(): string[] {
    return [...this.#ring.slice(this.#start), ...this.#ring.slice(0, this.#start)];
  }
}

/** Thrown when a safety or liveness property fails; names the seed and carries the trace. */
export class SafetyViolation extends Error {
  override readonly name = 'SafetyViolation';
  constructor(
    readonly property: string,
    readonly detail: string,
    readonly seed: number,
    readonly trace: readonly string[],
  ) {
    super(
      `${property} violated on seed ${seed}: ${detail}\n` +
        `Replay it with: npm run sim:raft -- --seed ${seed} --trace\n` +
        `Last ${trace.length} events:\n${trace.join('\n')}`,
    );
  }
}

/** Thrown inside the checks, before the simulation wraps it with the seed and trace. */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
  constructor(
    readonly property: string,
    detail: string,
  ) {
    super(detail);
  }
}

const decoder = new TextDecoder();

/** Short text for an entry's payload. */
export function entryText(e: Entry): string {
  const kind = e.type === 0 ? '' : e.type === 1 ? 'conf:' : 'noop';
  if (e.type === 2) return `${e.index}/${e.term}:noop`;
  if (e.type === 1) return `${e.index}/${e.term}:${kind}${e.data.length}B`;
  return `${e.index}/${e.term}:${decoder.decode(e.data.subarray(0, 24))}`;
}

/** One line for a message. */
export function messageText(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} t${m.term}`;
  switch (m.type) {
    case 'vote':
      return `${head}${m.preVote ? ' pre' : ''} last=${m.lastLogIndex}/${m.lastLogTerm}${m.transfer ? ' transfer' : ''}`;
    case 'voteResp':
      return `${head}${m.preVote ? ' pre' : ''} ${m.granted ? 'granted' : 'rejected'}`;
    case 'append': {
      const span = m.entries.length === 0 ? '' : ` [${m.entries[0]!.index}..${m.entries[m.entries.length - 1]!.index}]`;
      return `${head} prev=${m.prevLogIndex}/${m.prevLogTerm}${span} commit=${m.commit}`;
    }
    case 'appendResp':
      return `${head} ${m.success ? 'ok' : 'reject'} index=${m.index}${m.success ? '' : ` hint=${m.hintIndex}/${m.hintTerm}`}`;
    case 'heartbeat':
      return `${head} commit=${m.commit}`;
    case 'snapshot':
      return `${head} snap=${m.meta.index}/${m.meta.term} off=${m.offset}+${m.chunk.length}${m.done ? ' done' : ''}`;
    case 'snapshotResp':
      return `${head} snap=${m.meta.index}/${m.meta.term} recv=${m.received}${m.done ? ' done' : ''}${m.reject ? ' reject' : ''}`;
    case 'readIndexResp':
      return `${head} index=${m.index}`;
    default:
      return head;
  }
}
