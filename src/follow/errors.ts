/**
 * The named errors of the follow layer (state feed, presence, observer reads). Callers branch on
 * the class, never on message text.
 */
/**
 * A feed, presence or read-index frame that is well-formed CBOR but breaks the protocol: a field
 * of the wrong type or range, entries out of order, a snapshot chunk at the wrong offset. The
 * stream that carried it is reset. (Bytes that are not a frame at all are the p2p layer's
 * `MalformedFrameError` or `FrameTooLargeError`.)
 */
export class FeedProtocolError extends Error {
  override readonly name = 'FeedProtocolError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A subscriber fell further behind than the source keeps for it; it resyncs by snapshot on reconnect. */
export class FeedLagError extends Error {
  override readonly name = 'FeedLagError';
  readonly peerId: string;
  constructor(peerId: string, message: string) {
    super(message);
    this.peerId = peerId;
  }
}

/** An observer cannot serve a linearizable read because it knows no leader to ask. */
export class NoLeaderError extends Error {
  override readonly name = 'NoLeaderError';
  constructor(message = 'Cannot read linearizably as no leader is known yet: retry once the feed names one') {
    super(message);
  }
}
