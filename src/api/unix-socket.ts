/**
 * The admin API's unix socket file: a stale one left by a dead agent is removed at start; one
 * with a live agent behind it, or a path that is not a socket, is a clear error.
 * @module
 * @private
 */
import { createConnection } from 'node:net';
import { lstat, unlink } from 'node:fs/promises';

/** The socket path is in use by a running agent, or is not a socket at all. */
export class SocketInUseError extends Error {
  override readonly name = 'SocketInUseError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** Whether something accepts connections on the unix socket at `path` (bounded by `timeoutMs`). */
function probe(path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ path });
    const done = (alive: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(alive);
    };
    // A listener that does not accept within the bound is still alive (busy), not stale.
    const timer = setTimeout(() => done(true), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Make `path` free for `listen()`: nothing there → nothing to do; a socket nobody answers on
 * (ECONNREFUSED: its agent died) → removed; a live socket or a non-socket file → {@link SocketInUseError}.
 */
export async function clearStaleSocket(path: string, timeoutMs = 1000): Promise<'absent' | 'removed'> {
  let stats;
  try {
    stats = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw error;
  }
  if (!stats.isSocket()) {
    throw new SocketInUseError(
      path,
      `Cannot listen on ${path}: it exists and is not a socket; move it away or choose another socket path`,
    );
  }
  if (await probe(path, timeoutMs)) {
    throw new SocketInUseError(
      path,
      `Cannot listen on ${path}: another shoal agent is running and answering on it; stop it first or choose another socket path`,
    );
  }
  await unlink(path);
  return 'removed';
}
