/**
 * The client side of `bench:raft -- --via api`, run as its own process (as a real client is):
 * `concurrency` loops of 256-byte writes (a node label) through an agent's admin API over its
 * unix socket, with keep-alive connections, for `seconds`. Reports ops/s and p50/p99 latency to
 * the parent over IPC.
 */
import { Agent, request } from 'node:http';

interface Job {
  readonly socket: string;
  readonly nodeId: string;
  readonly concurrency: number;
  readonly seconds: number;
  readonly valueBytes: number;
}

function post(agent: Agent, job: Job, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: job.socket,
        agent,
        method: 'POST',
        path: `/v1/nodes/${job.nodeId}/labels`,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function run(
  job: Job,
): Promise<{ ops: number; errors: number; opsPerSec: number; p50Ms: number; p99Ms: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let seq = 0;
  const end = performance.now() + job.seconds * 1000;
  const pad = 'v'.repeat(job.valueBytes);
  const worker = async (w: number) => {
    while (performance.now() < end) {
      // a distinct value each time, so every write changes the state
      const value = `${w}-${seq++}-${pad}`.slice(0, job.valueBytes);
      const body = JSON.stringify({ add: { [`bench${w % 8}`]: value } });
      const t0 = performance.now();
      const status = await post(agent, job, body).catch(() => 0);
      if (status === 200) latencies.push(performance.now() - t0);
      else errors++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: job.concurrency }, (_, w) => worker(w)));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { ops: latencies.length, errors, opsPerSec: latencies.length / elapsed, p50Ms: at(0.5), p99Ms: at(0.99) };
}

process.once('message', (job: Job) => {
  run(job).then(
    (result) => process.send!({ t: 'result', result }, () => process.exit(0)),
    (error: unknown) => process.send!({ t: 'error', message: String(error) }, () => process.exit(1)),
  );
});
