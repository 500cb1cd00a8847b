/**
 * Writes a follower forwards to the leader, batched: one RPC stream per write cost more than the
 * write itself (a follower made 322 writes/s at 16 in flight against the leader's 646, measured
 * with bench:raft --via api). Batching is natural, not timed: a write goes at once when fewer
 * than {@link MAX_IN_FLIGHT} batches are out to that leader; otherwise it joins the next batch,
 * sent as soon as one returns. So a lone write waits for nothing, and under load a batch carries
 * what queued meanwhile (at most {@link MAX_BATCH}).
 *
 * Every item is a command with its request id, so a batch whose answer is lost can be sent again
 * item by item: the state machine applies each request id at most once. A batch whose target
 * stops leading is abandoned (its items fail with the cause, and the writer re-sends them).
 */
import { RemoteError } from '../p2p/index.js';
import type { NodeId } from '../raft/types.js';

/** Batches out to one leader at once. */
export const MAX_IN_FLIGHT = 2;
/** Writes in one batch at most. */
export const MAX_BATCH = 256;

/** One item's answer in a batch reply: its result, or the error a single call would have thrown. */
export type BatchAnswer =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly code: string; readonly message: string };

export interface ForwardBatcherDeps {
  /** Sends one batch to `leader` (the RPC), resolving with one answer per item, in order. */
  readonly send: (leader: NodeId, items: readonly unknown[], signal: AbortSignal) => Promise<readonly BatchAnswer[]>;
  /** The method name errors should carry (as a single call's would). */
  readonly method: string;
}

interface Item {
  readonly payload: unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

interface Lane {
  queue: Item[];
  /** Batches out, by the controller that aborts their RPC. */
  inFlight: Map<AbortController, readonly Item[]>;
}

export class ForwardBatcher {
  readonly #deps: ForwardBatcherDeps;
  readonly #lanes = new Map<NodeId, Lane>();

  constructor(deps: ForwardBatcherDeps) {
    this.#deps = deps;
  }

  /** Forward `payload` to `leader` in the next batch; resolves or rejects as a single RPC would. */
  forward(leader: NodeId, payload: unknown, signal?: AbortSignal): Promise<unknown> {
    signal?.throwIfAborted();
    const lane = this.#lane(leader);
    const answer = new Promise<unknown>((resolve, reject) => lane.queue.push({ payload, resolve, reject }));
    this.#pump(leader, lane);
    if (signal === undefined) return answer;
    // the caller may give up on its write; the batch it is in goes on for the others
    return Promise.race([
      answer,
      new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
    ]);
  }

  /** `leader` no longer leads: abandon its batches (their items fail and are re-sent by the writer). */
  abandon(leader: NodeId, reason: Error): void {
    const lane = this.#lanes.get(leader);
    if (!lane) return;
    for (const [controller, batch] of lane.inFlight) {
      controller.abort(reason);
      for (const item of batch) item.reject(reason); // at once: the RPC may take its time to end
    }
    const queued = lane.queue;
    lane.queue = [];
    for (const item of queued) item.reject(reason);
  }

  #lane(leader: NodeId): Lane {
    let lane = this.#lanes.get(leader);
    if (!lane) this.#lanes.set(leader, (lane = { queue: [], inFlight: new Map() }));
    return lane;
  }

  #pump(leader: NodeId, lane: Lane): void {
    while (lane.queue.length > 0 && lane.inFlight.size < MAX_IN_FLIGHT) {
      const batch = lane.queue.splice(0, MAX_BATCH);
      const controller = new AbortController();
      lane.inFlight.set(controller, batch);
      void this.#deps
        .send(
          leader,
          batch.map((item) => item.payload),
          controller.signal,
        )
        .then(
          (answers) => {
            batch.forEach((item, i) => {
              const answer = answers[i];
              if (answer === undefined)
                item.reject(
                  new RemoteError(leader, this.#deps.method, 'outcome_unknown', 'the batch answer was short'),
                );
              else if (answer.ok) item.resolve(answer.value);
              else item.reject(new RemoteError(leader, this.#deps.method, answer.code, answer.message));
            });
          },
          (error: unknown) => {
            for (const item of batch) item.reject(controller.signal.aborted ? controller.signal.reason : error);
          },
        )
        .finally(() => {
          lane.inFlight.delete(controller);
          if (lane.queue.length === 0 && lane.inFlight.size === 0) this.#lanes.delete(leader);
          else this.#pump(leader, lane);
        });
    }
  }
}
