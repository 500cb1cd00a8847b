import { DnsRcode, DnsType, encodeAnswer, encodeQuery, parseQuery, parseResponse } from '../../src/mesh/index.js';
import { Prng } from '../support/prng.js';

/** A query for `labels` whose last part is a compression pointer to `suffix`, placed after the question. */
function queryWithPointer(labels: string[], suffix: string[]): Uint8Array {
  const enc = new TextEncoder();
  const head = [0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
  const name: number[] = [];
  for (const l of labels) name.push(l.length, ...enc.encode(l));
  const pointerAt = 12 + name.length;
  const suffixAt = pointerAt + 2 + 4; // after the pointer and the type/class
  name.push(0xc0 | (suffixAt >> 8), suffixAt & 0xff);
  const tail: number[] = [];
  for (const l of suffix) tail.push(l.length, ...enc.encode(l));
  tail.push(0);
  return new Uint8Array([...head, ...name, 0, DnsType.A, 0, 1, ...tail]);
}

describe('parseQuery()', () => {
  it('reads the question, lower-casing the name but keeping its wire spelling', () => {
    const query = parseQuery(encodeQuery('Web.SHOP', DnsType.A, { id: 4242 }))!;
    expect(query).toMatchObject({ id: 4242, opcode: 0, recursionDesired: true, ednsUdpBytes: null });
    expect(query.question).toMatchObject({ name: 'web.shop', type: DnsType.A, class: 1 });
    expect(new TextDecoder().decode(query.question.wireName.subarray(1, 4))).toBe('Web');
  });

  it('follows a compression pointer in the question name', () => {
    const query = parseQuery(queryWithPointer(['tasks', 'web'], ['shop']));
    expect(query?.question.name).toBe('tasks.web.shop');
  });

  it('reads the EDNS UDP size from an OPT record, and never less than 512', () => {
    expect(parseQuery(encodeQuery('web', DnsType.A, { ednsUdpBytes: 4096 }))?.ednsUdpBytes).toBe(4096);
    expect(parseQuery(encodeQuery('web', DnsType.A, { ednsUdpBytes: 100 }))?.ednsUdpBytes).toBe(512);
  });

  it('escapes bytes that are not printable ASCII so they cannot alias a real name', () => {
    const packet = encodeQuery('web', DnsType.A);
    packet[14] = 0x2e; // 'w.b'
    expect(parseQuery(packet)?.question.name).toBe('w\\046b');
  });

  it.each([
    ['empty', new Uint8Array()],
    ['a header only', new Uint8Array(12)],
    [
      'a response',
      (() => {
        const p = encodeQuery('web', DnsType.A);
        p[2]! |= 0x80;
        return p;
      })(),
    ],
    [
      'two questions',
      (() => {
        const p = encodeQuery('web', DnsType.A);
        p[5] = 2;
        return p;
      })(),
    ],
    ['a pointer loop', new Uint8Array([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1])],
    ['an obsolete label type', new Uint8Array([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 0, 0, 1, 0, 1])],
    ['a name over 255 bytes', encodeQuery(Array.from({ length: 5 }, () => 'x'.repeat(60)).join('.'), DnsType.A)],
  ])('ignores %s', (_what, packet) => {
    expect(parseQuery(packet)).toBeNull();
  });

  it('returns null for every truncation of a valid query and never throws on random bytes', () => {
    const valid = encodeQuery('tasks.web.shop', DnsType.AAAA, { ednsUdpBytes: 1232 });
    // Cutting inside the OPT record only loses EDNS; cutting the question loses the query.
    const questionEnd = 12 + 'tasks.web.shop'.length + 2 + 4;
    for (let n = 0; n < questionEnd; n++) expect(parseQuery(valid.subarray(0, n))).toBeNull();
    for (let n = questionEnd; n < valid.length; n++) expect(parseQuery(valid.subarray(0, n))?.ednsUdpBytes).toBeNull();
    const rng = new Prng(1435);
    for (let i = 0; i < 5_000; i++) {
      const packet = new Uint8Array(rng.int(0, 80)).map(() => rng.int(0, 256));
      if (i % 2 === 0 && packet.length > 6) packet.set([0, 0, 0, 1], 2); // a plausible header
      expect(() => parseQuery(packet)).not.toThrow();
    }
  });
});

describe('encodeAnswer()', () => {
  const query = parseQuery(encodeQuery('tasks.Web', DnsType.A, { id: 77 }))!;

  it('answers A records under the question name, echoing its case', () => {
    const packet = encodeAnswer(query, {
      rcode: DnsRcode.NOERROR,
      authoritative: true,
      addresses: ['10.253.0.7', '172.18.0.4'],
      ttl: 5,
      maxBytes: 512,
    });
    expect(parseResponse(packet)).toEqual({
      id: 77,
      rcode: 0,
      authoritative: true,
      truncated: false,
      addresses: ['10.253.0.7', '172.18.0.4'],
      hasOpt: false,
    });
    expect(new TextDecoder().decode(packet.subarray(19, 22))).toBe('Web');
  });

  it('leaves out what does not fit and sets TC', () => {
    const addresses = Array.from({ length: 100 }, (_, i) => `10.0.0.${i}`);
    const packet = encodeAnswer(query, { rcode: 0, authoritative: true, addresses, maxBytes: 512 });
    const response = parseResponse(packet)!;
    expect(packet.length).toBeLessThanOrEqual(512);
    expect(response.truncated).toBe(true);
    expect(response.addresses.length).toBeGreaterThan(20);
  });

  it('adds an OPT record when the query had one, and skips addresses that are not IPv4', () => {
    const edns = parseQuery(encodeQuery('web', DnsType.A, { ednsUdpBytes: 1232 }))!;
    const response = parseResponse(
      encodeAnswer(edns, { rcode: 0, authoritative: true, addresses: ['fe80::1', '10.1.2.3'], maxBytes: 1232 }),
    );
    expect(response).toMatchObject({ hasOpt: true, addresses: ['10.1.2.3'] });
  });

  it('carries refusals without AA', () => {
    expect(
      parseResponse(encodeAnswer(query, { rcode: DnsRcode.REFUSED, authoritative: false, maxBytes: 512 })),
    ).toMatchObject({
      rcode: DnsRcode.REFUSED,
      authoritative: false,
      addresses: [],
    });
  });
});
