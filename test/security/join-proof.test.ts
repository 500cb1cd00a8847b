import {
  JOIN_NONCE_BYTES,
  computeJoinProof,
  createJoinNonce,
  createJoinToken,
  tokenKey,
  tokenKeyHex,
  verifyJoinProof,
  type JoinProofInput,
} from '../../src/security/index.js';

const CLUSTER = 'k3v7q2m7xa4bnc5d';
const token = createJoinToken(CLUSTER);
const nonce = new Uint8Array(JOIN_NONCE_BYTES).fill(7);
const base: JoinProofInput = {
  tokenKey: tokenKey(token.secret),
  clusterId: CLUSTER,
  nonce,
  joinerPeerId: '12D3KooWJoinerJoinerJoinerJoinerJoinerJoinerJoiner',
  memberPeerId: '12D3KooWMemberMemberMemberMemberMemberMemberMember',
};
const proof = computeJoinProof(base);

describe('computeJoinProof()', () => {
  it('is a deterministic 32-byte MAC', () => {
    expect(proof).toHaveLength(32);
    expect(computeJoinProof(base)).toEqual(proof);
  });

  it('accepts the key as bytes or as the hex the state stores', () => {
    expect(computeJoinProof({ ...base, tokenKey: tokenKeyHex(token.secret) })).toEqual(proof);
  });

  it('refuses a key or nonce of the wrong size', () => {
    expect(() => computeJoinProof({ ...base, tokenKey: new Uint8Array(5) })).toThrow(RangeError);
    expect(() => computeJoinProof({ ...base, tokenKey: 'not hex' })).toThrow(RangeError);
    expect(() => computeJoinProof({ ...base, nonce: new Uint8Array(8) })).toThrow(RangeError);
  });
});

describe('verifyJoinProof()', () => {
  it('accepts the proof for the same challenge', () => {
    expect(verifyJoinProof({ ...base, proof })).toEqual({ ok: true });
  });

  const otherNonce = new Uint8Array(JOIN_NONCE_BYTES).fill(8);
  const rotated = createJoinToken(CLUSTER);
  it.each<[string, Partial<JoinProofInput>]>([
    ['a fresh nonce (replay of a recorded proof)', { nonce: otherNonce }],
    ['another joiner claiming the proof', { joinerPeerId: '12D3KooWOtherOtherOtherOtherOtherOtherOtherOtherOt' }],
    ['another member it is relayed to', { memberPeerId: '12D3KooWRelayRelayRelayRelayRelayRelayRelayRelayRe' }],
    ['another cluster', { clusterId: 'aaaaaaaaaaaaaaaa' }],
    ['the token after rotation', { tokenKey: tokenKey(rotated.secret) }],
  ])('refuses it against %s', (_what, change) => {
    const verdict = verifyJoinProof({ ...base, ...change, proof });
    expect(verdict).toMatchObject({ ok: false, reason: 'mismatch' });
    if (!verdict.ok) expect(verdict.message).toMatch(/rotated.*`shoal token show`/);
  });

  it('is not fooled by moving characters between the peer ids (fields are length-prefixed)', () => {
    const shifted = { ...base, joinerPeerId: 'ab', memberPeerId: 'c' };
    const other = { ...base, joinerPeerId: 'a', memberPeerId: 'bc' };
    expect(verifyJoinProof({ ...other, proof: computeJoinProof(shifted) }).ok).toBe(false);
  });

  it.each([
    ['a short proof', { proof: proof.slice(0, 16) }, 'malformedProof'],
    ['a proof that is not bytes', { proof: 'abc' as unknown as Uint8Array }, 'malformedProof'],
    ['a short nonce', { nonce: new Uint8Array(4), proof }, 'malformedNonce'],
  ])('refuses %s without throwing', (_what, change, reason) => {
    expect(verifyJoinProof(Object.assign({}, base, { proof }, change))).toMatchObject({ ok: false, reason });
  });
});

describe('createJoinNonce()', () => {
  it('gives fresh 32-byte nonces', () => {
    const a = createJoinNonce();
    const b = createJoinNonce();
    expect(a).toHaveLength(JOIN_NONCE_BYTES);
    expect(a).not.toEqual(b);
  });
});
