/**
 * Wraps a connection encrypter factory (Noise) so that its writes cost fewer Noise messages and
 * fewer syscalls: below it, the raw connection is a {@link CoalescingMessageStream} (each send
 * reaches the socket in one write); above it, the secured connection is a
 * {@link BatchingMessageStream} (the muxer's sends of one loop turn become one Noise message).
 * The handshake is the encrypter's own and the wire format is unchanged, so a wrapped host and an
 * unwrapped one (an older shoal) talk as before. Private to the p2p layer.
 */
import { serviceCapabilities } from '@libp2p/interface';
import type { ConnectionEncrypter, MessageStream, SecureConnectionOptions, SecuredConnection } from '@libp2p/interface';
import { BatchingMessageStream } from './batching-stream.js';
import { CoalescingMessageStream } from './coalescing-stream.js';

/** What `noise()` returns: libp2p calls it with its components. */
export type EncrypterFactory<Components> = (components: Components) => ConnectionEncrypter;

/** Options of {@link coalesceEncrypterWrites}. */
export interface CoalesceOptions {
  /** Gather the secured connection's sends of one loop turn into one (above the encrypter). Default true. */
  readonly batchSends?: boolean;
}

/** The encrypter `inner`, writing through a {@link CoalescingMessageStream}. */
export class CoalescingEncrypter implements ConnectionEncrypter {
  readonly #inner: ConnectionEncrypter;
  readonly #batchSends: boolean;
  readonly protocol: string;
  readonly [Symbol.toStringTag] = 'shoal-coalescing-encrypter';
  /** libp2p checks services' declared capabilities against what others depend on: keep the inner's. */
  readonly [serviceCapabilities]: string[];

  constructor(inner: ConnectionEncrypter, options: CoalesceOptions = {}) {
    this.#inner = inner;
    this.#batchSends = options.batchSends ?? true;
    this.protocol = inner.protocol;
    const capabilities: unknown = Reflect.get(inner, serviceCapabilities);
    this[serviceCapabilities] = Array.isArray(capabilities) ? capabilities.map(String) : [];
  }

  async secureInbound(connection: MessageStream, options?: SecureConnectionOptions): Promise<SecuredConnection> {
    return this.#batched(await this.#inner.secureInbound(new CoalescingMessageStream(connection), options));
  }

  async secureOutbound(connection: MessageStream, options?: SecureConnectionOptions): Promise<SecuredConnection> {
    return this.#batched(await this.#inner.secureOutbound(new CoalescingMessageStream(connection), options));
  }

  #batched(secured: SecuredConnection): SecuredConnection {
    return this.#batchSends ? { ...secured, connection: new BatchingMessageStream(secured.connection) } : secured;
  }
}

/**
 * Wrap an encrypter factory for `createLibp2p({ connectionEncrypters: [...] })`.
 *
 * @example
 * createLibp2p({ connectionEncrypters: [coalesceEncrypterWrites(noise())], ... });
 */
export function coalesceEncrypterWrites<Components>(
  factory: EncrypterFactory<Components>,
  options: CoalesceOptions = {},
): EncrypterFactory<Components> {
  return (components) => new CoalescingEncrypter(factory(components), options);
}
