/**
 * Lowercase RFC 4648 base32 without padding (alphabet `a-z2-7`): unambiguous to read aloud,
 * safe in a shell argument and a file name, and case-insensitive when pasted.
 * @module
 * @private
 */

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** Matches a non-empty lowercase base32 string. */
export const BASE32_PATTERN = /^[a-z2-7]+$/;

/**
 * Encode bytes as lowercase unpadded base32.
 * @example base32Encode(new Uint8Array([0xff])) // "74"
 */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >>> bits) & 31];
    }
    buffer &= (1 << bits) - 1; // keep only the unread bits so the accumulator never overflows
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}
