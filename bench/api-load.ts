/**
 * The client side of `bench:raft -- --via api`, run as its own process (as a real client is):
 * `concurrency` loops of 256-byte writes (a node label) through an agent's admin API over its
 * unix socket, with keep-alive connections, for `seconds`. Reports ops/s, p50/p99 latency and its
 * own CPU time to the parent over IPC.
 *
 * Two clients: `lean` (default) writes HTTP/1.1 requests on its own sockets and reads the
 * status and the Content-Length body; `node` uses node:http's client, which took 330-450 µs of
 * CPU per write, a third of what the agents took, on the same two cores (etcd's Go client in
 * `check perf` costs a small fraction of that).
 */
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';

interface Job {
  readonly socket: string;
  readonly nodeId: string;
  readonly concurrency: number;
  readonly seconds: number;
  readonly valueBytes: number;
  readonly client?: 'lean' | 'node';
}

/** One keep-alive HTTP/1.1 connection, one request at a time; answers the status code. */
class LeanConnection {
  readonly #path: string;
  #socket: Socket | null = null;
  #buffer: Buffer = Buffer.alloc(0);
  #pending: { resolve: (status: number) => void; reject: (error: Error) => void } | null = null;

  constructor(path: string) {
    this.#path = path;
  }

  post(target: string, body: string): Promise<number> {
    const socket = this.#socket ?? this.#open();
    const bytes = Buffer.byteLength(body);
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
      socket.write(
        `POST ${target} HTTP/1.1\r\nhost: shoal\r\ncontent-type: application/json\r\ncontent-length: ${bytes}\r\n\r\n${body}`,
      );
    });
  }

  close(): void {
    this.#socket?.destroy();
  }

  #open(): Socket {
    const socket = connect(this.#path);
    socket.on('data', (chunk: Buffer) => this.#read(chunk));
    const fail = (error: Error) => {
      this.#socket = null;
      this.#buffer = Buffer.alloc(0);
      const pending = this.#pending;
      this.#pending = null;
      pending?.reject(error);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
    this.#socket = socket;
    return socket;
  }

  #read(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const end = this.#buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.#buffer.toString('latin1', 0, end);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
    if (!Number.isFinite(length)) {
      this.#socket?.destroy(new Error(`an answer without Content-Length: ${head.slice(0, 200)}`));
      return;
    }
    if (this.#buffer.length < end + 4 + length) return;
    this.#buffer = this.#buffer.subarray(end + 4 + length);
    const pending = this.#pending;
    this.#pending = null;
    pending?.resolve(Number(head.slice(9, 12)));
  }
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
): Promise<{ ops: number; errors: number; opsPerSec: number; p50Ms: number; p99Ms: number; clientCpuMs: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });
  const lean = job.client !== 'node';
  const connections = Array.from({ length: lean ? job.concurrency : 0 }, () => new LeanConnection(job.socket));
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
      const send = lean ? connections[w]!.post(`/v1/nodes/${job.nodeId}/labels`, body) : post(agent, job, body);
      const status = await send.catch(() => 0);
      if (status === 200) latencies.push(performance.now() - t0);
      else errors++;
    }
  };
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: job.concurrency }, (_, w) => worker(w)));
  const elapsed = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  agent.destroy();
  for (const connection of connections) connection.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return {
    ops: latencies.length,
    errors,
    opsPerSec: latencies.length / elapsed,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    clientCpuMs: (used.user + used.system) / 1000,
  };
}

process.once('message', (job: Job) => {
  run(job).then(
    (result) => process.send!({ t: 'result', result }, () => process.exit(0)),
    (error: unknown) => process.send!({ t: 'error', message: String(error) }, () => process.exit(1)),
  );
});
