/**
 * CPU µs per Noise message (seal then open) with libp2p-noise's default crypto (`default`) and
 * shoal's {@link cachedKeyNoiseCrypto} (`cached`), for a few message sizes; plus Node's cipher
 * alone with the raw key (`node-raw`, what the default does from 1200 bytes) and with a cached
 * `KeyObject` (`node-key`), to show what the WebAssembly path below 1200 bytes is up against.
 *
 * CPU time of this process (`process.cpuUsage`), best of several alternating rounds: the machine
 * is shared and wall time is noisy. JSON on the last line.
 *
 *   npx tsx bench/noise-crypto.ts --rounds 7
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { defaultCrypto, nodeCrypto } from '@chainsafe/libp2p-noise/crypto';
import type { ICryptoInterface } from '@chainsafe/libp2p-noise';
import { cachedKeyNoiseCrypto } from '../src/p2p/noise-crypto.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    sizes: { type: 'string', default: '100,1000,1200,4096,65519' },
  },
});
const rounds = Number(values.rounds);
const sizes = values.sizes.split(',').map(Number);
if (!Number.isInteger(rounds) || rounds < 1)
  throw new RangeError(`--rounds: want a positive integer, got ${values.rounds}`);
if (sizes.some((s) => !Number.isInteger(s) || s < 0 || s > 65519)) {
  throw new RangeError(`--sizes: want integers in 0..65519, got ${values.sizes}`);
}

type Seal = Pick<ICryptoInterface, 'chaCha20Poly1305Encrypt' | 'chaCha20Poly1305Decrypt'>;

/** Node's cipher on every message of any size under a `KeyObject` made once (no WebAssembly). */
function nodeWithKeyObject(k: Uint8Array): Seal {
  const key = createSecretKey(k);
  const options = { authTagLength: 16 } as const;
  return {
    chaCha20Poly1305Encrypt(p, nonce, ad) {
      const cipher = createCipheriv('chacha20-poly1305', key, nonce, options);
      cipher.setAAD(ad, { plaintextLength: p.byteLength });
      return Buffer.concat([cipher.update(p.subarray()), cipher.final(), cipher.getAuthTag()]);
    },
    chaCha20Poly1305Decrypt(c, nonce, ad) {
      const text = c.byteLength - 16;
      const decipher = createDecipheriv('chacha20-poly1305', key, nonce, options);
      decipher.setAAD(ad, { plaintextLength: text });
      decipher.setAuthTag(c.subarray(text));
      return Buffer.concat([decipher.update(c.subarray(0, text)), decipher.final()]);
    },
  };
}

const implementations: Record<string, Seal> = {
  default: defaultCrypto,
  cached: cachedKeyNoiseCrypto,
  'node-raw': nodeCrypto,
};
const KEY = randomBytes(32);
implementations['node-key'] = nodeWithKeyObject(KEY);

function cpuMicrosPerMessage(impl: Seal, size: number, messages: number): number {
  const [k, nonce, ad, plaintext] = [KEY, randomBytes(12), new Uint8Array(0), randomBytes(size)];
  const start = process.cpuUsage();
  for (let i = 0; i < messages; i++) {
    impl.chaCha20Poly1305Decrypt(impl.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k), nonce, ad, k);
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / messages;
}

const results: Array<Record<string, number>> = [];
for (const size of sizes) {
  const messages = Math.max(200, Math.floor(2_000_000 / (size + 200)));
  const best: Record<string, number> = {};
  for (const name of Object.keys(implementations)) cpuMicrosPerMessage(implementations[name]!, size, messages); // warm
  for (let round = 0; round < rounds; round++) {
    for (const [name, impl] of Object.entries(implementations)) {
      best[name] = Math.min(best[name] ?? Infinity, cpuMicrosPerMessage(impl, size, messages));
    }
  }
  console.log(
    `${String(size).padStart(6)} B  ${Object.entries(best)
      .map(([n, us]) => `${n} ${us.toFixed(1)} µs`)
      .join('  ')}`,
  );
  results.push({ size, ...best });
}
console.log(JSON.stringify({ unit: 'cpu µs per seal+open', rounds, results }));
