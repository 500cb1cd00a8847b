/**
 * Wraps a connection encrypter factory (Noise) so that the raw connection it writes to is a
 * {@link CoalescingMessageStream}: one socket write per encrypted message instead of two.
 * The handshake and the encrypted stream are the encrypter's own; the wire format is unchanged,
 * so a wrapped host and an unwrapped one (an older shoal) talk as before. Private to the p2p layer.
 */
import { serviceCapabilities } from '@libp2p/interface';
import type { ConnectionEncrypter, MessageStream, SecureConnectionOptions, SecuredConnection } from '@libp2p/interface';
import { CoalescingMessageStream } from './coalescing-stream.js';

/** What `noise()` returns: libp2p calls it with its components. */
export type EncrypterFactory<Components> = (components: Components) => ConnectionEncrypter;

/** The encrypter `inner`, writing through a {@link CoalescingMessageStream}. */
export class CoalescingEncrypter implements ConnectionEncrypter {
  readonly #inner: ConnectionEncrypter;
  readonly protocol: string;
  readonly [Symbol.toStringTag] = 'shoal-coalescing-encrypter';
  /** libp2p checks services' declared capabilities against what others depend on: keep the inner's. */
  readonly [serviceCapabilities]: string[];

  constructor(inner: ConnectionEncrypter) {
    this.#inner = inner;
    this.protocol = inner.protocol;
    const capabilities: unknown = Reflect.get(inner, serviceCapabilities);
    this[serviceCapabilities] = Array.isArray(capabilities) ? capabilities.map(String) : [];
  }

  secureInbound(connection: MessageStream, options?: SecureConnectionOptions): Promise<SecuredConnection> {
    return this.#inner.secureInbound(new CoalescingMessageStream(connection), options);
  }

  secureOutbound(connection: MessageStream, options?: SecureConnectionOptions): Promise<SecuredConnection> {
    return this.#inner.secureOutbound(new CoalescingMessageStream(connection), options);
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
): EncrypterFactory<Components> {
  return (components) => new CoalescingEncrypter(factory(components));
}
