/**
 * A MessageStream that hands the socket each `send` in one write (one syscall), without copying.
 *
 * Why: Noise encrypts a send into a list of buffers (per message a 2-byte length, the ciphertext
 * and its tag), and @libp2p/tcp calls `socket.write` once per buffer of a list. With TCP_NODELAY
 * every write is its own syscall and its own segment, so each Yamux frame (and each window
 * update that answers it) cost two writes or more. Below Noise and above the socket, this
 * wrapper corks the socket around the inner `send`: Node then hands the kernel the whole list
 * in one `writev`, and a 64 KiB ciphertext is not copied to be joined with its length. On a
 * connection without a `net.Socket` (another transport, a test double) it joins the list into
 * one buffer instead. The bytes on the wire are the same either way.
 *
 * Everything else (status, events, backpressure, close, abort) is the inner stream's: `send`
 * returns exactly what the inner `send` returned and 'drain' reaches listeners when the inner
 * stream emits it. Private to the p2p layer.
 */
import { Socket } from 'node:net';
import type { MessageStream } from '@libp2p/interface';
import { ForwardingMessageStream } from './forwarding-stream.js';
import type { SendData } from './forwarding-stream.js';

/** Join a multi-buffer list into one buffer; a lone buffer is passed through without copying. */
export function toSingleBuffer(data: SendData): Uint8Array {
  // Uint8ArrayList#subarray() returns its only buffer as is, and concatenates otherwise.
  return data instanceof Uint8Array ? data : data.subarray();
}

/** The `net.Socket` under @libp2p/tcp's connection (its `socket` field), or null for other transports. */
export function socketOf(connection: MessageStream): Socket | null {
  const socket: unknown = Reflect.get(connection, 'socket');
  return socket instanceof Socket ? socket : null;
}

/**
 * Forwards every member of `MessageStream` to `inner`; `send` reaches the socket as one write.
 *
 * @example
 * const secured = await noise.secureOutbound(new CoalescingMessageStream(maConn), options);
 */
export class CoalescingMessageStream extends ForwardingMessageStream {
  readonly #socket: Socket | null;

  constructor(inner: MessageStream) {
    super(inner);
    this.#socket = socketOf(inner);
  }

  override send(data: SendData): boolean {
    const socket = this.#socket;
    if (data instanceof Uint8Array) return this.inner.send(data);
    if (socket === null) return this.inner.send(toSingleBuffer(data));
    // Corked, the socket queues each buffer's write; uncork hands them to the kernel in one writev.
    socket.cork();
    try {
      return this.inner.send(data);
    } finally {
      socket.uncork();
    }
  }
}
