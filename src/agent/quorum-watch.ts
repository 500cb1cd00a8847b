/**
 * Does this node still reach the cluster's quorum? Every QUORUM_PROBE_MS it makes a linearizable
 * read (ReadIndex: the leader must hear the request and confirm its leadership with a quorum),
 * bounded by PROBE_TIMEOUT_MS, and says when the last one succeeded. A node that has not reached
 * the quorum for `fenceAfterMs` is fenced: the runtime stops its at-most-one tasks
 * (src/runtime/self-fence.ts argues the timing). Explicit dependencies; start/stop.
 */
import { PROBE_TIMEOUT_MS, QUORUM_PROBE_MS } from '../runtime/index.js';

export interface QuorumWatchDeps {
  /** A linearizable read barrier (the Raft node's `read`); rejects when it cannot be confirmed. */
  readonly read: (options: { signal: AbortSignal }) => Promise<void>;
  /** Whether fencing matters now (this node runs tasks that stop on disconnect); when not, no probe is made. */
  readonly needed: () => boolean;
  /** Milliseconds on a monotonic clock. */
  readonly now: () => number;
  /** How long without the quorum before fencing (fenceAfterMs of the node grace). */
  readonly fenceAfterMs: () => number;
  /** Told when the node becomes fenced or unfenced, with how long the quorum has been out of reach. */
  readonly onChange: (fenced: boolean, silentMs: number) => void;
}

export class QuorumWatch {
  readonly #deps: QuorumWatchDeps;
  #lastOk: number;
  #fenced = false;
  #timer: ReturnType<typeof setInterval> | null = null;
  #probing = false;

  constructor(deps: QuorumWatchDeps) {
    this.#deps = deps;
    this.#lastOk = deps.now();
  }

  get fenced(): boolean {
    return this.#fenced;
  }

  /** Milliseconds since the quorum last confirmed a read of this node. */
  get silentMs(): number {
    return this.#deps.now() - this.#lastOk;
  }

  start(): void {
    if (this.#timer !== null) return;
    this.#lastOk = this.#deps.now();
    this.#timer = setInterval(() => void this.probe(), QUORUM_PROBE_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One probe (the timer calls it; tests may too). */
  async probe(): Promise<void> {
    if (this.#probing) return;
    this.#probing = true;
    try {
      // with nothing to fence, count the quorum as reached: no read, and no stale silence later
      if (this.#deps.needed()) await this.#deps.read({ signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      this.#lastOk = this.#deps.now();
    } catch {
      // not confirmed in time: the silence goes on
    } finally {
      this.#probing = false;
    }
    const fenced = this.silentMs > this.#deps.fenceAfterMs();
    if (fenced !== this.#fenced) {
      this.#fenced = fenced;
      this.#deps.onChange(fenced, this.silentMs);
    }
  }
}
