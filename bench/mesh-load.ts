/**
 * The load side of `bench:mesh` (bench/mesh.ts), run inside a node's network namespace: short
 * requests with 64 keep-alive connections for a few seconds (requests/s), then 500 one at a time
 * (p50 latency), then one stream's MB/s. With `--dns`, the host name is resolved through that server first (the mesh
 * DNS). Prints one JSON line: { rps, p50_ms, mbps }.
 *
 * Usage: node --import tsx bench/mesh-load.ts --host H --port P [--dns IP] [--seconds 5] [--mb 128]
 */
import { Resolver } from 'node:dns/promises';
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    dns: { type: 'string' },
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '64' },
    mb: { type: 'string', default: '128' },
  },
});
if (values.host === undefined || values.port === undefined) throw new Error('--host and --port are required');
let host = values.host;
if (values.dns !== undefined) {
  const resolver = new Resolver({ timeout: 2_000, tries: 2 });
  resolver.setServers([values.dns]);
  host = (await resolver.resolve4(host))[0]!;
}
const port = Number(values.port);
const agent = new Agent({ keepAlive: true, maxSockets: Number(values.concurrency) });

function get(path: string, onData?: (bytes: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, agent }, (res) => {
      res.on('data', (chunk: Buffer) => onData?.(chunk.length));
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

// Warm up the connections, then count.
await Promise.all(Array.from({ length: Number(values.concurrency) }, () => get('/')));
let requests = 0;
const until = performance.now() + Number(values.seconds) * 1000;
const started = performance.now();
await Promise.all(
  Array.from({ length: Number(values.concurrency) }, async () => {
    while (performance.now() < until) {
      await get('/');
      requests++;
    }
  }),
);
const elapsed = (performance.now() - started) / 1000;
// Latency alone, one request at a time on one connection: under 64 in flight it is queueing.
const latencies: number[] = [];
for (let i = 0; i < 500; i++) {
  const t = performance.now();
  await get('/');
  latencies.push(performance.now() - t);
}
latencies.sort((a, b) => a - b);
let bytes = 0;
const streamStart = performance.now();
await get(`/big?mb=${values.mb}`, (n) => (bytes += n));
const streamSeconds = (performance.now() - streamStart) / 1000;
agent.destroy();
console.log(
  JSON.stringify({
    rps: Math.round(requests / elapsed),
    p50_ms: Number(latencies[Math.floor(latencies.length / 2)]!.toFixed(3)),
    mbps: Number((bytes / 1e6 / streamSeconds).toFixed(1)),
  }),
);
