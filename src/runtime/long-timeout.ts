/**
 * Timers longer than Node allows. `setTimeout` holds its delay in a signed 32-bit integer: a delay
 * over 2^31-1 ms (24.8 days) is replaced by 1 ms with a `TimeoutOverflowWarning`, so a caller that
 * re-arms on every wake-up spins. {@link setLongTimeout} arms in chunks of at most that much and
 * re-arms until the deadline, read from the clock, has passed.
 * @module
 */

/** The longest delay `setTimeout` keeps as given, ms (2^31-1, about 24.8 days). */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** The part of a clock a long timeout needs (the raft driver's `Clock` has this shape). */
export interface TimerClock<H = unknown> {
  now(): number;
  setTimeout(fn: () => void, ms: number): H;
  clearTimeout(handle: H): void;
}

/** A pending long timeout. */
export interface LongTimeout {
  /** Cancels it; idempotent, and harmless after it fired. */
  clear(): void;
}

/** Node's timers, unref'd so that a far-off timer does not keep the process alive. */
const nodeTimers: TimerClock<ReturnType<typeof setTimeout>> = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const handle = setTimeout(fn, ms);
    handle.unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle),
};

/**
 * Calls `fn` once, `ms` from now, for any `ms` (a negative delay means now, `Infinity` never).
 * @throws {RangeError} when `ms` is NaN.
 * @example
 * ```ts
 * const wake = setLongTimeout(() => requestPass(), 30 * 86_400_000); // 30 days: no overflow
 * wake.clear();
 * ```
 */
export function setLongTimeout<H>(fn: () => void, ms: number, clock?: TimerClock<H>): LongTimeout {
  if (Number.isNaN(ms)) throw new RangeError('Cannot set a timeout of NaN ms: expected a number of ms');
  const timers = (clock ?? nodeTimers) as TimerClock<unknown>;
  if (ms === Number.POSITIVE_INFINITY) return { clear() {} };
  const deadline = timers.now() + Math.max(0, ms);
  let handle: unknown = null;
  let cleared = false;
  const arm = (): void => {
    const left = deadline - timers.now();
    if (left > MAX_TIMER_DELAY_MS) {
      handle = timers.setTimeout(arm, MAX_TIMER_DELAY_MS);
      return;
    }
    handle = timers.setTimeout(
      () => {
        handle = null;
        if (!cleared) fn();
      },
      Math.max(0, left),
    );
  };
  arm();
  return {
    clear() {
      cleared = true;
      if (handle !== null) timers.clearTimeout(handle);
      handle = null;
    },
  };
}
