/**
 * cachedKeyNoiseCrypto against libp2p-noise's own crypto: the same bytes for the same key, nonce,
 * associated data and message, the same failure on tampered input, and hosts using either talk.
 */
import { createHash } from 'node:crypto';
import { jest } from '@jest/globals';
import { defaultCrypto, nodeCrypto } from '@chainsafe/libp2p-noise/crypto';
import { Uint8ArrayList } from 'uint8arraylist';
import { cachedKeyNoiseCrypto, NODE_CIPHER_FROM_BYTES, sessionKeyObject } from '../../src/p2p/noise-crypto.js';
import { createHost, RpcService } from '../../src/p2p/index.js';
import type { P2PHost } from '../../src/p2p/index.js';
import { newKey } from './helpers.js';

/** Deterministic bytes: SHA-256 of a seed and a counter, so a failure replays. */
function seededBytes(seed: string): (length: number) => Uint8Array {
  let counter = 0;
  return (length) => {
    const out = new Uint8Array(length);
    for (let at = 0; at < length; at += 32) {
      const block = createHash('sha256').update(`${seed}/${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, length - at)), at);
    }
    return out;
  };
}

/** Bytes of either shape Noise returns. */
function flat(bytes: Uint8Array | Uint8ArrayList): Buffer {
  return Buffer.from(bytes.subarray());
}

/** What `fn` throws (its message), or 'did not throw'. */
function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  return 'did not throw';
}

// 0, 1 and 100 take the WebAssembly path; from NODE_CIPHER_FROM_BYTES the cached Node key.
const LENGTHS = [0, 1, 100, NODE_CIPHER_FROM_BYTES - 1, NODE_CIPHER_FROM_BYTES, 4096, 65519];
const AD_LENGTHS = [0, 32];

describe('cachedKeyNoiseCrypto', () => {
  describe.each(LENGTHS)('a %d-byte message', (length) => {
    it.each(AD_LENGTHS)('seals to the same bytes as the default crypto (%d bytes of AD)', (adLength) => {
      const random = seededBytes(`seal/${length}/${adLength}`);
      for (let round = 0; round < 3; round++) {
        const [k, nonce, ad, plaintext] = [random(32), random(12), random(adLength), random(length)];
        const ours = flat(cachedKeyNoiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k));
        expect(ours.byteLength).toBe(length + 16);
        expect(ours.equals(flat(defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)))).toBe(true);
        expect(ours.equals(flat(nodeCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)))).toBe(true);
        // Noise hands over a list when the stream wrote several buffers: same bytes.
        const list = new Uint8ArrayList(plaintext.subarray(0, length >> 1), plaintext.subarray(length >> 1));
        expect(flat(cachedKeyNoiseCrypto.chaCha20Poly1305Encrypt(list, nonce, ad, k)).equals(ours)).toBe(true);
      }
    });

    it('opens what the default sealed, and the default opens what it sealed', () => {
      const random = seededBytes(`open/${length}`);
      const [k, nonce, ad, plaintext] = [random(32), random(12), random(32), random(length)];
      const fromDefault = flat(defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k));
      const fromOurs = flat(cachedKeyNoiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k));
      const expected = Buffer.from(plaintext);
      expect(flat(cachedKeyNoiseCrypto.chaCha20Poly1305Decrypt(fromDefault, nonce, ad, k)).equals(expected)).toBe(true);
      expect(flat(defaultCrypto.chaCha20Poly1305Decrypt(fromOurs, nonce, ad, k)).equals(expected)).toBe(true);
      const list = new Uint8ArrayList(fromOurs.subarray(0, 7), fromOurs.subarray(7));
      expect(flat(cachedKeyNoiseCrypto.chaCha20Poly1305Decrypt(list, nonce, ad, k)).equals(expected)).toBe(true);
    });

    it.each([
      ['a flipped ciphertext or tag byte', 'ciphertext'],
      ['other associated data', 'ad'],
      ['another nonce', 'nonce'],
      ['another key', 'key'],
    ])('refuses %s with the error the default throws', (_what, tamper) => {
      const random = seededBytes(`tamper/${length}/${tamper}`);
      const [k, nonce, ad, plaintext] = [random(32), random(12), random(32), random(length)];
      const sealed = flat(cachedKeyNoiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k));
      const flip = (bytes: Uint8Array): Uint8Array => {
        const copy = Uint8Array.from(bytes);
        copy[copy.byteLength >> 1]! ^= 0x01;
        return copy;
      };
      const args = {
        ciphertext: [flip(sealed), nonce, ad, k],
        ad: [sealed, nonce, flip(ad), k],
        nonce: [sealed, flip(nonce), ad, k],
        key: [sealed, nonce, ad, flip(k)],
      }[tamper]!;
      // Both copy the ciphertext first: the WebAssembly path may decrypt into its input.
      const ours = thrown(() => cachedKeyNoiseCrypto.chaCha20Poly1305Decrypt(...copyArgs(args)));
      const theirs = thrown(() => defaultCrypto.chaCha20Poly1305Decrypt(...copyArgs(args)));
      expect(ours).not.toBe('did not throw');
      expect(ours).toBe(theirs);
    });
  });

  it('seals with the new contents after a key array is overwritten in place', () => {
    const random = seededBytes('rekey');
    const [k, nonce, plaintext] = [random(32), random(12), random(NODE_CIPHER_FROM_BYTES)];
    const ad = new Uint8Array(0);
    const first = sessionKeyObject(k);
    expect(sessionKeyObject(k)).toBe(first); // imported once per key array
    cachedKeyNoiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k);
    k.set(random(32));
    const ours = flat(cachedKeyNoiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k));
    expect(ours.equals(flat(nodeCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)))).toBe(true);
    expect(sessionKeyObject(k)).not.toBe(first);
  });
});

type DecryptArgs = [Uint8Array, Uint8Array, Uint8Array, Uint8Array];

function copyArgs(args: Uint8Array[]): DecryptArgs {
  const [ciphertext, nonce, ad, k] = args.map((a) => Uint8Array.from(a));
  return [ciphertext!, nonce!, ad!, k!];
}

describe('createHost({ cachedCipherKeys })', () => {
  const running: P2PHost[] = [];

  afterEach(async () => {
    const hosts = running.splice(0);
    for (const h of hosts) for (const c of h.libp2p.getConnections()) c.abort(new Error('test over'));
    await Promise.all(hosts.map((h) => h.stop()));
    jest.restoreAllMocks();
  });

  async function host(cachedCipherKeys: boolean): Promise<P2PHost> {
    const h = await createHost({ privateKey: (await newKey()).privateKey, cachedCipherKeys });
    running.push(h);
    return h;
  }

  it.each([
    ['a cached-key dialer', 'a default listener', true, false],
    ['a default dialer', 'a cached-key listener', false, true],
    ['a cached-key dialer', 'a cached-key listener', true, true],
  ])('%s and %s exchange small and large RPCs both ways', async (_d, _l, dialerCaches, listenerCaches) => {
    // Noise takes the crypto's functions when the host is made: spy first, to see the host use them.
    const sealedLarge: number[] = [];
    const seal = cachedKeyNoiseCrypto.chaCha20Poly1305Encrypt;
    jest.spyOn(cachedKeyNoiseCrypto, 'chaCha20Poly1305Encrypt').mockImplementation((plaintext, ...rest) => {
      if (plaintext.byteLength >= NODE_CIPHER_FROM_BYTES) sealedLarge.push(plaintext.byteLength);
      return seal(plaintext, ...rest);
    });
    const [dialer, listener] = await Promise.all([host(dialerCaches), host(listenerCaches)]);
    const servers = [new RpcService(listener), new RpcService(dialer)];
    for (const s of servers) s.handle('echo', (payload) => payload);
    await Promise.all(servers.map((s) => s.start()));
    const [onListener, onDialer] = servers;
    // Several Noise messages of 64 KiB and one shorter: both cipher paths, both directions.
    const large = new Uint8Array(150_000).map((_, i) => (i * 7) % 251);
    for (const [from, to] of [
      [onDialer!, listener],
      [onListener!, dialer],
    ] as const) {
      const addresses = to.multiaddrs();
      expect(await from.call(to.peerId, 'echo', 'small', { addresses })).toBe('small');
      const echoed = (await from.call(to.peerId, 'echo', { blob: large }, { addresses })) as { blob: Uint8Array };
      expect(Buffer.compare(echoed.blob, large)).toBe(0);
    }
    await Promise.all(servers.map((s) => s.stop()));
    // Each caching host sealed one 150 kB echo in 64 KiB messages (request or answer) at least.
    const cachingHosts = Number(dialerCaches) + Number(listenerCaches);
    expect(sealedLarge.length).toBeGreaterThanOrEqual(2 * cachingHosts);
  });
});
