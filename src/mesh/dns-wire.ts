/**
 * The DNS wire format (RFC 1035 §4, EDNS from RFC 6891), only as much as an authoritative
 * A-record responder needs: parse one query, encode its answer. Pure: bytes in, bytes out.
 * Nothing here throws on input from the network; a packet it cannot read is `null`.
 */

export const DnsType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  ANY: 255,
};
export const DnsClass = { IN: 1, ANY: 255 };
export const DnsRcode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };

/** Largest answer over UDP to a client that did not announce a size (RFC 1035 §4.2.1). */
export const CLASSIC_UDP_BYTES = 512;
/** The UDP size we announce and honour at most (the DNS flag day 2020 value: no IP fragments). */
export const EDNS_UDP_BYTES = 1232;

const HEADER_BYTES = 12;
const MAX_NAME_BYTES = 255;
const MAX_POINTER_JUMPS = 64;

export interface DnsQuestion {
  /** Lower case, no trailing dot; bytes other than printable ASCII as `\DDD`. */
  readonly name: string;
  readonly type: number;
  readonly class: number;
  /** The name as the client spelled it, uncompressed: answers echo it (resolvers check the case). */
  readonly wireName: Uint8Array;
}

export interface DnsQuery {
  readonly id: number;
  readonly opcode: number;
  readonly recursionDesired: boolean;
  readonly question: DnsQuestion;
  /** The client's EDNS UDP payload size, or null when it sent no OPT record. */
  readonly ednsUdpBytes: number | null;
}

export interface DnsAnswer {
  readonly rcode: number;
  /** IPv4 addresses answered as A records for the question's name. */
  readonly addresses?: readonly string[];
  readonly ttl?: number;
  /** Set AA: true for names we own, false for refusals. */
  readonly authoritative: boolean;
  /** Largest message to produce; records that do not fit are left out and TC set. */
  readonly maxBytes: number;
}

/** A name read at `offset`, following compression pointers; null when malformed. */
function readName(buf: Uint8Array, offset: number): { labels: Uint8Array[]; next: number } | null {
  const labels: Uint8Array[] = [];
  let total = 1;
  let pos = offset;
  let next = -1;
  for (let jumps = 0; ;) {
    if (pos >= buf.length) return null;
    const len = buf[pos]!;
    if (len === 0) {
      if (next < 0) next = pos + 1;
      return { labels, next };
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= buf.length || ++jumps > MAX_POINTER_JUMPS) return null;
      if (next < 0) next = pos + 2;
      // Loops are cut by the jump limit and the 255-byte name limit, not by direction.
      pos = ((len & 0x3f) << 8) | buf[pos + 1]!;
      continue;
    }
    if ((len & 0xc0) !== 0) return null; // 0x40 and 0x80 label types are obsolete
    total += len + 1;
    if (total > MAX_NAME_BYTES || pos + 1 + len > buf.length) return null;
    labels.push(buf.subarray(pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
}

function labelText(label: Uint8Array): string {
  let out = '';
  for (const b of label) {
    if (b >= 0x41 && b <= 0x5a) out += String.fromCharCode(b + 32);
    else if (b > 0x20 && b < 0x7f && b !== 0x2e && b !== 0x5c) out += String.fromCharCode(b);
    else out += `\\${b.toString().padStart(3, '0')}`;
  }
  return out;
}

function wireName(labels: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(labels.reduce((n, l) => n + l.length + 1, 1));
  let pos = 0;
  for (const l of labels) {
    out[pos++] = l.length;
    out.set(l, pos);
    pos += l.length;
  }
  return out;
}

/** Skip a resource record at `offset`; returns its type, class field, TTL field and the next offset. */
function readRecord(
  buf: Uint8Array,
  view: DataView,
  offset: number,
): { type: number; klass: number; next: number } | null {
  const name = readName(buf, offset);
  if (name === null || name.next + 10 > buf.length) return null;
  const type = view.getUint16(name.next);
  const klass = view.getUint16(name.next + 2);
  const next = name.next + 10 + view.getUint16(name.next + 8);
  return next > buf.length ? null : { type, klass, next };
}

/**
 * Parse a query. Returns null for anything that is not a well-formed query with one question
 * (responses, truncated or garbled packets): such packets get no answer.
 *
 * @example
 * const query = parseQuery(packet);
 * if (query !== null) socket.send(encodeAnswer(query, { rcode: DnsRcode.REFUSED, authoritative: false, maxBytes: 512 }));
 */
export function parseQuery(buf: Uint8Array): DnsQuery | null {
  if (buf.length < HEADER_BYTES) return null;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const flags = view.getUint16(2);
  if ((flags & 0x8000) !== 0) return null; // a response
  if (view.getUint16(4) !== 1) return null;
  const name = readName(buf, HEADER_BYTES);
  if (name === null || name.next + 4 > buf.length) return null;
  const question: DnsQuestion = {
    name: name.labels.map(labelText).join('.'),
    type: view.getUint16(name.next),
    class: view.getUint16(name.next + 2),
    wireName: wireName(name.labels),
  };
  // Look for an OPT record among the other sections; if they are garbled, answer without EDNS.
  let ednsUdpBytes: number | null = null;
  let pos = name.next + 4;
  const others = view.getUint16(6) + view.getUint16(8) + view.getUint16(10);
  for (let i = 0; i < others; i++) {
    const record = readRecord(buf, view, pos);
    if (record === null) break;
    if (record.type === DnsType.OPT) ednsUdpBytes = Math.max(CLASSIC_UDP_BYTES, record.klass);
    pos = record.next;
  }
  return {
    id: view.getUint16(0),
    opcode: (flags >> 11) & 0xf,
    recursionDesired: (flags & 0x0100) !== 0,
    question,
    ednsUdpBytes,
  };
}

function ipv4Bytes(address: string): Uint8Array | null {
  const parts = address.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    out[i] = Number(part);
  }
  return out;
}

const A_RECORD_BYTES = 16; // pointer to the question name, type, class, ttl, rdlength, 4 bytes
const OPT_RECORD_BYTES = 11;

/**
 * Encode the answer to `query`: the question echoed, A records for `addresses` (anything that
 * is not a dotted IPv4 address is skipped), and an OPT record when the query had one.
 */
export function encodeAnswer(query: DnsQuery, answer: DnsAnswer): Uint8Array {
  const q = query.question;
  const records = (answer.addresses ?? []).map(ipv4Bytes).filter((b): b is Uint8Array => b !== null);
  const opt = query.ednsUdpBytes !== null ? OPT_RECORD_BYTES : 0;
  const fixed = HEADER_BYTES + q.wireName.length + 4 + opt;
  const fits = Math.max(0, Math.floor((answer.maxBytes - fixed) / A_RECORD_BYTES));
  const count = Math.min(records.length, fits);
  const truncated = count < records.length;
  const out = new Uint8Array(fixed + count * A_RECORD_BYTES);
  const view = new DataView(out.buffer);
  view.setUint16(0, query.id);
  const flags =
    0x8000 |
    (query.opcode << 11) |
    (answer.authoritative ? 0x0400 : 0) |
    (truncated ? 0x0200 : 0) |
    (query.recursionDesired ? 0x0100 : 0) |
    (answer.rcode & 0xf);
  view.setUint16(2, flags);
  view.setUint16(4, 1);
  view.setUint16(6, count);
  view.setUint16(10, opt > 0 ? 1 : 0);
  out.set(q.wireName, HEADER_BYTES);
  let pos = HEADER_BYTES + q.wireName.length;
  view.setUint16(pos, q.type);
  view.setUint16(pos + 2, q.class);
  pos += 4;
  const ttl = answer.ttl ?? 0;
  for (const address of records.slice(0, count)) {
    view.setUint16(pos, 0xc000 | HEADER_BYTES);
    view.setUint16(pos + 2, DnsType.A);
    view.setUint16(pos + 4, DnsClass.IN);
    view.setUint32(pos + 6, ttl);
    view.setUint16(pos + 10, 4);
    out.set(address, pos + 12);
    pos += A_RECORD_BYTES;
  }
  if (opt > 0) {
    // root name, OPT, our UDP size, extended rcode/version/flags 0, no options
    view.setUint16(pos + 1, DnsType.OPT);
    view.setUint16(pos + 3, EDNS_UDP_BYTES);
  }
  return out;
}

/**
 * Encode a query for `name` (tests and the upstream forwarder use it).
 *
 * @example
 * const packet = encodeQuery('web.shop', DnsType.A, { id: 7, ednsUdpBytes: 1232 });
 */
export function encodeQuery(
  name: string,
  type: number,
  options: { readonly id?: number; readonly ednsUdpBytes?: number; readonly recursionDesired?: boolean } = {},
): Uint8Array {
  const labels = name
    .split('.')
    .filter((l) => l !== '')
    .map((l) => new TextEncoder().encode(l));
  for (const l of labels)
    if (l.length > 63) throw new RangeError(`Cannot encode DNS name ${name}: a label is over 63 bytes`);
  const qname = wireName(labels);
  const opt = options.ednsUdpBytes === undefined ? 0 : OPT_RECORD_BYTES;
  const out = new Uint8Array(HEADER_BYTES + qname.length + 4 + opt);
  const view = new DataView(out.buffer);
  view.setUint16(0, options.id ?? 0);
  view.setUint16(2, options.recursionDesired === false ? 0 : 0x0100);
  view.setUint16(4, 1);
  view.setUint16(10, opt > 0 ? 1 : 0);
  out.set(qname, HEADER_BYTES);
  view.setUint16(HEADER_BYTES + qname.length, type);
  view.setUint16(HEADER_BYTES + qname.length + 2, DnsClass.IN);
  if (opt > 0) {
    const pos = HEADER_BYTES + qname.length + 4;
    view.setUint16(pos + 1, DnsType.OPT);
    view.setUint16(pos + 3, options.ednsUdpBytes!);
  }
  return out;
}

/** A parsed answer (tests read our responses with it). */
export interface DnsResponse {
  readonly id: number;
  readonly rcode: number;
  readonly authoritative: boolean;
  readonly truncated: boolean;
  readonly addresses: string[];
  readonly hasOpt: boolean;
}

/** Decode a response's header and A records; null when malformed. */
export function parseResponse(buf: Uint8Array): DnsResponse | null {
  if (buf.length < HEADER_BYTES) return null;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const flags = view.getUint16(2);
  if ((flags & 0x8000) === 0) return null;
  let pos = HEADER_BYTES;
  for (let i = 0; i < view.getUint16(4); i++) {
    const name = readName(buf, pos);
    if (name === null) return null;
    pos = name.next + 4;
  }
  const addresses: string[] = [];
  let hasOpt = false;
  const records = view.getUint16(6) + view.getUint16(8) + view.getUint16(10);
  for (let i = 0; i < records; i++) {
    const record = readRecord(buf, view, pos);
    if (record === null) return null;
    if (record.type === DnsType.A && record.next - pos >= 4)
      addresses.push(buf.subarray(record.next - 4, record.next).join('.'));
    if (record.type === DnsType.OPT) hasOpt = true;
    pos = record.next;
  }
  return {
    id: view.getUint16(0),
    rcode: flags & 0xf,
    authoritative: (flags & 0x0400) !== 0,
    truncated: (flags & 0x0200) !== 0,
    addresses,
    hasOpt,
  };
}
