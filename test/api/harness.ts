/**
 * Test harness: a real admin API server on a temp unix socket and 127.0.0.1:0 around a real
 * agent's API (one of an in-process cluster, test/agent/support), recorded; a raw HTTP request
 * helper, and a logger that records.
 */
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiServer, type ApiLogger, type ApiServer, type ApiServerOptions } from '../../src/api/index.js';
import { InProcessCluster, type InProcessAgent } from '../agent/support/in-process-cluster.js';
import { RecordingApi } from './recording-api.js';

/** A logger that keeps what it was given. */
export class RecordingLogger implements ApiLogger {
  readonly entries: { level: string; object: object; message?: string }[] = [];
  error(object: object, message?: string) {
    this.entries.push({ level: 'error', object, message });
  }
  warn(object: object, message?: string) {
    this.entries.push({ level: 'warn', object, message });
  }
  info(object: object, message?: string) {
    this.entries.push({ level: 'info', object, message });
  }
  debug(object: object, message?: string) {
    this.entries.push({ level: 'debug', object, message });
  }
}

/** A started server and what tests need to reach it. */
export interface Harness {
  /** The agents: alpha, beta, gamma, ... */
  readonly cluster: InProcessCluster;
  /** The agent the server serves (alpha, which created the cluster). */
  readonly agent: InProcessAgent;
  /** Its API, recorded. */
  readonly api: RecordingApi;
  /** A node's id by its hostname. */
  idOf(hostname: string): string;
  readonly server: ApiServer;
  readonly dir: string;
  readonly socketPath: string;
  readonly port: number;
  readonly logger: RecordingLogger;
  close(): Promise<void>;
}

/** What to start: a cluster of `nodes` agents (3), formed or not, and the server's options. */
export interface HarnessOptions {
  readonly nodes?: number;
  /** Make the agents one cluster (default true); false: agents that belong to none. */
  readonly form?: boolean;
  /** Labels per agent, by index. */
  readonly labels?: readonly Readonly<Record<string, string>>[];
  readonly server?: Partial<ApiServerOptions>;
}

/** Start agents and a server on a fresh temp socket and 127.0.0.1:0 around the first one's API. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const cluster = await InProcessCluster.start({
    nodes: options.nodes ?? 3,
    form: options.form ?? true,
    ...(options.labels ? { labels: options.labels } : {}),
  });
  const agent = cluster.agents[0]!;
  const recording = new RecordingApi(agent.agent.api);
  const dir = await mkdtemp(join(tmpdir(), 'shoal-api-'));
  const socketPath = join(dir, 'shoal.sock');
  const logger = new RecordingLogger();
  const server = createApiServer(recording.api, {
    socketPath,
    listen: [{ host: '127.0.0.1', port: 0 }],
    logger,
    ...options.server,
  });
  await server.start();
  const tcp = server.addresses().find((address) => address.startsWith('http'));
  const port = tcp ? Number(new URL(tcp).port) : 0;
  return {
    cluster,
    agent,
    api: recording,
    idOf(hostname) {
      const found = cluster.agents.find((a) => a.name === hostname);
      if (!found) throw new Error(`no agent named ${hostname}`);
      return found.agent.id;
    },
    server,
    dir,
    socketPath,
    port,
    logger,
    async close() {
      await server.stop();
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A raw answer. */
export interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Send one request with node:http, over `socketPath` or `port`. */
export function send(
  target: { socketPath: string } | { port: number },
  method: string,
  path: string,
  options: { body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const where = 'socketPath' in target ? { socketPath: target.socketPath } : { host: '127.0.0.1', port: target.port };
    const req = request({ ...where, method, path, headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          json: text === '' ? undefined : JSON.parse(text),
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** JSON body and its header. */
export function json(value: unknown): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(value);
  return { body, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } };
}
