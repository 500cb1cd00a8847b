/**
 * The named errors of the p2p layer. Callers branch on the class (or on `code` for errors
 * that crossed the wire), never on message text.
 */

/** The identity key file exists but cannot be read as a libp2p private key. */
export class IdentityFileError extends Error {
  override readonly name = 'IdentityFileError';
  /** The file that could not be used. */
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.path = path;
  }
}

/** A frame's length prefix announces more bytes than the protocol allows; it was not buffered. */
export class FrameTooLargeError extends Error {
  override readonly name = 'FrameTooLargeError';
  readonly size: number;
  readonly limit: number;
  constructor(size: number, limit: number, direction: 'inbound' | 'outbound') {
    super(
      direction === 'inbound'
        ? `Cannot read frame as its length prefix announces ${size} bytes, over the limit of ${limit} bytes: the peer sent an oversized or corrupt frame`
        : `Cannot send frame as it encodes to ${size} bytes, over the limit of ${limit} bytes: split the payload or raise the protocol's frame limit`,
    );
    this.size = size;
    this.limit = limit;
  }
}

/** Bytes from the wire that are not a well-formed frame, or a frame whose content has the wrong shape. */
export class MalformedFrameError extends Error {
  override readonly name = 'MalformedFrameError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The peer refused the stream or could not be reached for an RPC. */
export class PeerUnreachableError extends Error {
  override readonly name = 'PeerUnreachableError';
  readonly peerId: string;
  constructor(peerId: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.peerId = peerId;
  }
}

/** Error codes carried by {@link RemoteError}. Handlers may use their own codes too. */
export const RpcErrorCode = {
  /** The remote has no handler for the method. */
  UnknownMethod: 'UNKNOWN_METHOD',
  /** The method is for cluster members only and the caller is not one. */
  NotMember: 'NOT_MEMBER',
  /** The handler threw an error without a string `code`. */
  HandlerError: 'HANDLER_ERROR',
  /** The request frame was not a valid RPC request. */
  BadRequest: 'BAD_REQUEST',
} as const;

/** An RPC handler on the remote peer failed; `code` says how, `message` is the remote's message. */
export class RemoteError extends Error {
  override readonly name = 'RemoteError';
  readonly code: string;
  readonly peerId: string;
  readonly method: string;
  constructor(peerId: string, method: string, code: string, message: string) {
    super(`${method} on ${peerId} failed (${code}): ${message}`);
    this.code = code;
    this.peerId = peerId;
    this.method = method;
  }
}

/** An RPC got no answer within its `timeoutMs`. */
export class RpcTimeoutError extends Error {
  override readonly name = 'RpcTimeoutError';
  constructor(peerId: string, method: string, timeoutMs: number) {
    super(
      `${method} on ${peerId} got no answer within ${timeoutMs} ms: the peer may be down or overloaded; retry or raise timeoutMs`,
    );
  }
}

/**
 * The stream or connection to the peer broke after the request was opened and before the answer
 * came (the peer died, or its connection reset): the call may or may not have run there.
 */
export class ConnectionLostError extends Error {
  override readonly name = 'ConnectionLostError';
  readonly peerId: string;
  constructor(peerId: string, method: string, cause: unknown) {
    super(
      `${method} on ${peerId}: the connection broke before the answer came (${cause instanceof Error ? cause.message : String(cause)}); the call may or may not have run there`,
      { cause },
    );
    this.peerId = peerId;
  }
}
