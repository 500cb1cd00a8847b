/** Connecting to a task's TCP port, bounded in time and cancellable. */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** Open a connection to a task; the proxy and the mesh server take one as a dependency. */
export type ConnectTcp = (
  host: string,
  port: number,
  options: { readonly signal?: AbortSignal; readonly timeoutMs?: number },
) => Promise<Duplex>;

/**
 * Connect with `allowHalfOpen` (a proxy forwards half-closes) and no Nagle delay (the client's
 * own stack already decided how to batch its writes).
 *
 * @example
 * const socket = await connectTcp('172.18.0.4', 8080, { timeoutMs: 5_000 });
 */
export function connectTcp(
  host: string,
  port: number,
  options: { readonly signal?: AbortSignal; readonly timeoutMs?: number } = {},
): Promise<Socket> {
  const { signal } = options;
  const timeoutMs = options.timeoutMs ?? 5_000;
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(signal.reason);
    const socket = connect({ host, port, allowHalfOpen: true, noDelay: true });
    const fail = (err: Error): void => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onError = (err: Error): void => fail(err);
    const onAbort = (): void => fail(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
    const timer = setTimeout(
      () => fail(new Error(`Cannot connect to ${host}:${port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
    };
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      cleanup();
      resolve(socket);
    });
  });
}
