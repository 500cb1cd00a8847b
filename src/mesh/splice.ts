/**
 * Join two byte streams both ways, as a TCP proxy does: backpressure through `pipe`, an end
 * on one side half-closes the other (`allowHalfOpen` on both), and an error or an abrupt close
 * of either side ends both at once (a socket is reset, so its peer sees the failure too).
 */
import { Socket } from 'node:net';
import { finished } from 'node:stream';
import type { Duplex } from 'node:stream';

/** Why a splice ended: both sides finished cleanly, or the first error. */
export type SpliceEnd = { readonly ok: true } | { readonly ok: false; readonly error: Error };

function kill(side: Duplex, error: Error): void {
  if (side.destroyed) return;
  if (side instanceof Socket && !side.connecting) side.resetAndDestroy();
  else side.destroy(error);
}

/**
 * Pipe `a` into `b` and `b` into `a`; `onEnd` runs once, when both are done.
 *
 * @example
 * splice(clientSocket, upstream, (end) => lease.release());
 */
export function splice(a: Duplex, b: Duplex, onEnd: (end: SpliceEnd) => void): void {
  let pending = 2;
  let failure: Error | null = null;
  const done = (err?: Error | null): void => {
    if (err != null && failure === null) {
      failure = err;
      kill(a, err);
      kill(b, err);
    }
    if (--pending === 0) onEnd(failure === null ? { ok: true } : { ok: false, error: failure });
  };
  finished(a, done);
  finished(b, done);
  a.pipe(b);
  b.pipe(a);
}
