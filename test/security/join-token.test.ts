import {
  CLUSTER_ID_PATTERN,
  InvalidJoinTokenError,
  createClusterId,
  createJoinToken,
  fingerprint,
  parseJoinToken,
  tokenKey,
  tokenKeyHex,
} from '../../src/security/index.js';
import { base32Encode } from '../../src/security/base32.js';

const CLUSTER = 'abcdefghijk234567'.slice(0, 16);
const SECRET = 'a'.repeat(16) + '234567zyxwvutsrq';
const GOOD = `SHOAL-1-${CLUSTER}-${SECRET}`;

describe('base32Encode()', () => {
  it.each([
    [[], ''],
    [[0xff], '74'],
    [[0x66, 0x6f, 0x6f, 0x62, 0x61, 0x72], 'mzxw6ytboi'], // RFC 4648 test vector "foobar", lowercased
  ])('base32Encode(%j) is %s', (bytes, expected) => {
    expect(base32Encode(new Uint8Array(bytes))).toBe(expected);
  });
});

describe('createJoinToken()', () => {
  it('creates a token that parses back to the same cluster id and secret', () => {
    const clusterId = createClusterId();
    expect(clusterId).toMatch(CLUSTER_ID_PATTERN);
    const token = createJoinToken(clusterId);
    expect(token.text).toMatch(/^SHOAL-1-[a-z2-7]{16}-[a-z2-7]{32}$/);
    expect(parseJoinToken(token.text)).toEqual(token);
  });

  it('draws a different secret each time', () => {
    const secrets = new Set(Array.from({ length: 20 }, () => createJoinToken(CLUSTER).secret));
    expect(secrets.size).toBe(20);
  });

  it('refuses a malformed cluster id', () => {
    expect(() => createJoinToken('Not-An-Id')).toThrow(RangeError);
  });
});

describe('parseJoinToken()', () => {
  it.each([
    ['the canonical form', GOOD],
    ['surrounding whitespace', `  ${GOOD}\n`],
    ['an upper-case body', `SHOAL-1-${CLUSTER.toUpperCase()}-${SECRET.toUpperCase()}`],
    ['a lower-case prefix', `shoal-1-${CLUSTER}-${SECRET}`],
  ])('accepts %s', (_what, text) => {
    expect(parseJoinToken(text)).toEqual({ clusterId: CLUSTER, secret: SECRET, text: GOOD });
  });

  it.each([
    ['empty', '', 'empty', /join token is empty/],
    ['whitespace only', ' \n', 'empty', /join token is empty/],
    [
      'wrong prefix',
      `SWARM-1-${CLUSTER}-${SECRET}`,
      'prefix',
      /must start with "SHOAL-", got one starting with "SWARM-"/,
    ],
    ['no dashes', 'hello', 'prefix', /must start with "SHOAL-"/],
    [
      'future version',
      `SHOAL-2-${CLUSTER}-${SECRET}`,
      'version',
      /has version 2, but this shoal reads version 1 only: upgrade shoal/,
    ],
    ['missing version', 'SHOAL-', 'version', /version ""/],
    ['too few parts', `SHOAL-1-${CLUSTER}`, 'shape', /4 parts .* got 3/],
    ['too many parts', `${GOOD}-extra`, 'shape', /4 parts .* got 5/],
    ['short cluster id', `SHOAL-1-abc-${SECRET}`, 'clusterId', /cluster id "abc" is not 16 characters a-z, 2-7/],
    [
      'cluster id with bad characters',
      `SHOAL-1-${'0'.repeat(16)}-${SECRET}`,
      'clusterId',
      /cluster id "0000000000000000"/,
    ],
    [
      'truncated secret',
      `SHOAL-1-${CLUSTER}-${SECRET.slice(0, 20)}`,
      'secret',
      /secret has 20 characters, expected 32: was it cut off/,
    ],
    [
      'secret with bad characters',
      `SHOAL-1-${CLUSTER}-${'1'.repeat(32)}`,
      'secret',
      /only contain characters a-z and 2-7/,
    ],
  ])('refuses %s', (_what, text, part, message) => {
    let error: unknown;
    try {
      parseJoinToken(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidJoinTokenError);
    expect((error as InvalidJoinTokenError).part).toBe(part);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain('`shoal token show`');
  });

  it('never echoes the secret in an error', () => {
    const badSecret = 'q'.repeat(31);
    expect(() => parseJoinToken(`SHOAL-1-${CLUSTER}-${badSecret}`)).toThrow(/31 characters/);
    try {
      parseJoinToken(`SHOAL-1-${CLUSTER}-${badSecret}`);
    } catch (e) {
      expect((e as Error).message).not.toContain(badSecret);
    }
  });
});

describe('tokenKey()', () => {
  it('derives a stable 32-byte key that differs per secret and is not the secret', () => {
    const key = tokenKey(SECRET);
    expect(key).toHaveLength(32);
    expect(tokenKey(SECRET)).toEqual(key);
    expect(tokenKey('b'.repeat(32))).not.toEqual(key);
    expect(Buffer.from(key).toString('hex')).toBe(tokenKeyHex(SECRET));
    expect(Buffer.from(key).toString('utf8')).not.toContain(SECRET);
  });

  it('refuses a malformed secret', () => {
    expect(() => tokenKey('short')).toThrow(RangeError);
  });
});

describe('fingerprint()', () => {
  it('is 16 hex characters, the same for bytes and hex, and not a prefix of the key', () => {
    const key = tokenKey(SECRET);
    const fp = fingerprint(key);
    expect(fp).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprint(tokenKeyHex(SECRET))).toBe(fp);
    expect(tokenKeyHex(SECRET).startsWith(fp)).toBe(false);
    expect(fingerprint(tokenKey('b'.repeat(32)))).not.toBe(fp);
  });

  it('refuses a hex string that is not hex', () => {
    expect(() => fingerprint('xyz')).toThrow(RangeError);
  });
});
