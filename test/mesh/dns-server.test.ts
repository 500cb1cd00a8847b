import { createSocket } from 'node:dgram';
import { promises as dns } from 'node:dns';
import { performance } from 'node:perf_hooks';
import {
  DnsRcode,
  DnsType,
  MeshDns,
  decide,
  defaultZone,
  encodeQuery,
  parseQuery,
  parseResponse,
} from '../../src/mesh/index.js';
import type { DnsLookup } from '../../src/mesh/index.js';

/** The names of stack `shop` as seen from its tasks (client 172.18.0.x), and of `tools` otherwise. */
const TASKS = Array.from({ length: 60 }, (_, i) => `172.18.1.${i + 1}`);
const lookup: DnsLookup = (name, client) => {
  const stack = client.startsWith('172.18.') || client === '127.0.0.1' ? 'shop' : 'tools';
  const table: Record<string, string[]> = {
    [`web.shop`]: ['10.253.0.7'],
    [`db.shop`]: ['10.253.0.8'],
    [`tasks.web.shop`]: ['172.18.0.4', '172.18.0.5'],
    [`tasks.many.shop`]: TASKS,
  };
  const full = name.includes('.') && !name.startsWith('tasks.') ? name : `${name}.${stack}`;
  return table[name] ?? table[full] ?? null;
};
const zone = (name: string, client: string): boolean => defaultZone(name, client) || name.endsWith('.shop');

describe('decide()', () => {
  const config = { lookup, zone, ttl: 0, forward: false };
  const q = (name: string, type = DnsType.A) => parseQuery(encodeQuery(name, type))!;

  it.each([
    ['web', DnsType.A, { rcode: DnsRcode.NOERROR, addresses: ['10.253.0.7'], authoritative: true }],
    ['web.shop', DnsType.A, { rcode: DnsRcode.NOERROR, addresses: ['10.253.0.7'] }],
    ['tasks.web', DnsType.A, { rcode: DnsRcode.NOERROR, addresses: ['172.18.0.4', '172.18.0.5'] }],
    ['tasks.web.shop', DnsType.A, { rcode: DnsRcode.NOERROR, addresses: ['172.18.0.4', '172.18.0.5'] }],
    ['web', DnsType.AAAA, { rcode: DnsRcode.NOERROR, addresses: [], authoritative: true }],
    ['web', DnsType.TXT, { rcode: DnsRcode.NOERROR, addresses: [] }],
    ['nope', DnsType.A, { rcode: DnsRcode.NXDOMAIN, authoritative: true }],
    ['nope.shop', DnsType.AAAA, { rcode: DnsRcode.NXDOMAIN }],
    ['tasks.nope', DnsType.A, { rcode: DnsRcode.NXDOMAIN }],
    ['example.com', DnsType.A, { rcode: DnsRcode.REFUSED, authoritative: false }],
  ])('%s type %i', (name, type, expected) => {
    expect(decide(q(name, type), '172.18.0.9', config)).toMatchObject(expected);
  });

  it('forwards names outside the zone when upstreams are configured, and is SERVFAIL when the lookup throws', () => {
    expect(decide(q('example.com'), '172.18.0.9', { ...config, forward: true })).toEqual({ forward: true });
    const broken = {
      ...config,
      lookup: () => {
        throw new Error('index not ready');
      },
    };
    expect(decide(q('web'), '172.18.0.9', broken)).toMatchObject({ rcode: DnsRcode.SERVFAIL });
  });
});

describe('MeshDns', () => {
  let server: MeshDns;
  let resolver: dns.Resolver;

  beforeAll(async () => {
    server = new MeshDns({ host: '127.0.0.1', port: 0, lookup, zone });
    await server.start();
    resolver = new dns.Resolver({ timeout: 1_000, tries: 1 });
    resolver.setServers([`127.0.0.1:${server.port}`]);
  });

  afterAll(async () => {
    await server.stop();
  });

  it('answers the names of a stack to a real resolver, case-insensitively', async () => {
    await expect(resolver.resolve4('web')).resolves.toEqual(['10.253.0.7']);
    await expect(resolver.resolve4('WEB.Shop')).resolves.toEqual(['10.253.0.7']);
    await expect(resolver.resolve4('tasks.web')).resolves.toEqual(['172.18.0.4', '172.18.0.5']);
    await expect(resolver.resolve4('web', { ttl: true })).resolves.toEqual([{ address: '10.253.0.7', ttl: 0 }]);
  });

  it('answers AAAA for a known name with no records, unknown names with NXDOMAIN, others with REFUSED', async () => {
    await expect(resolver.resolve6('web')).rejects.toMatchObject({ code: 'ENODATA' });
    await expect(resolver.resolve4('nope.shop')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver.resolve4('example.com')).rejects.toMatchObject({ code: 'EREFUSED' });
  });

  it('truncates a long answer over UDP and gives it whole over TCP', async () => {
    // c-ares sends EDNS (1232 bytes), sees TC and asks again over TCP.
    await expect(resolver.resolve4('tasks.many')).resolves.toEqual(TASKS);
    const udp = await udpAsk(server.port, encodeQuery('tasks.many', DnsType.A, { id: 5 }));
    expect(udp).toMatchObject({ truncated: true });
    expect(udp!.addresses.length).toBeLessThan(TASKS.length);
  });

  it('ignores garbage and keeps answering', async () => {
    const junk = [new Uint8Array([1, 2, 3]), new Uint8Array(12), new Uint8Array(512).fill(0xc0)];
    for (const packet of junk) expect(await udpAsk(server.port, packet, 200)).toBeNull();
    await expect(resolver.resolve4('db')).resolves.toEqual(['10.253.0.8']);
  });

  it('forwards names outside the zone to an upstream and answers with the client id', async () => {
    const upstream = new MeshDns({
      host: '127.0.0.1',
      port: 0,
      lookup: (n) => (n === 'example.com' ? ['93.184.215.14'] : null),
    });
    await upstream.start();
    const front = new MeshDns({ host: '127.0.0.1', port: 0, lookup, zone, upstream: [`127.0.0.1:${upstream.port}`] });
    await front.start();
    try {
      const answer = await udpAsk(front.port, encodeQuery('example.com', DnsType.A, { id: 31337 }));
      expect(answer).toMatchObject({ id: 31337, rcode: 0, addresses: ['93.184.215.14'] });
      expect(await udpAsk(front.port, encodeQuery('web', DnsType.A, { id: 2 }))).toMatchObject({
        addresses: ['10.253.0.7'],
      });
    } finally {
      await front.stop();
      await upstream.stop();
    }
  });

  it('measures answer latency through a real resolver (reported, not asserted)', async () => {
    for (let i = 0; i < 200; i++) await resolver.resolve4('web.shop'); // warm up
    const samples: number[] = [];
    for (let i = 0; i < 3_000; i++) {
      const start = performance.now();
      await resolver.resolve4(i % 2 === 0 ? 'web.shop' : 'tasks.web');
      samples.push(performance.now() - start);
    }
    samples.sort((a, b) => a - b);
    const at = (p: number): string => `${(samples[Math.floor(samples.length * p)]! * 1000).toFixed(0)} µs`;
    process.stdout.write(`mesh DNS latency over ${samples.length} queries: p50 ${at(0.5)}, p99 ${at(0.99)}\n`);
    expect(samples).toHaveLength(3_000);
  });
});

/** Send one UDP packet and read one answer (null after `waitMs` without one). */
function udpAsk(port: number, packet: Uint8Array, waitMs = 2_000): Promise<ReturnType<typeof parseResponse>> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      resolve(null);
    }, waitMs);
    socket.on('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(parseResponse(msg));
    });
    socket.send(packet, port, '127.0.0.1');
  });
}
