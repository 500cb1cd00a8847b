import { encode, decode } from 'cbor-x';

describe('toolchain', () => {
  it('runs on Node 22 or newer (js-libp2p v3 needs Promise.withResolvers)', () => {
    const major = Number(process.versions.node.split('.')[0]);
    expect(major).toBeGreaterThanOrEqual(22);
    expect(typeof Promise.withResolvers).toBe('function');
  });
  it('round-trips cbor-x', () => {
    expect(decode(encode({ a: 1, b: new Uint8Array([1, 2]) }))).toEqual({ a: 1, b: new Uint8Array([1, 2]) });
  });
});
