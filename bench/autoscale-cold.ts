/**
 * The scale-to-zero side of bench:autoscale, on the same agent (with --mesh) and this machine's
 * Docker Engine: busybox httpd (shoal-test/busybox) as a `min: 0` service with a published port.
 *  - cold_start_ms: once the service is at zero tasks with no container left, one GET through the
 *    published port (the mesh's ingress listener holds it) until its answer; `rounds` times (the
 *    service goes idle → zero again between rounds), median.
 *  - container_start_ms: the floor, `docker run -d -p` of the same image and command on the same
 *    engine, from the command until the first GET answered; `rounds` times, median.
 *  - container_start_network_ms: the same on a user-defined bridge network, as the task's stack
 *    network is (the engine starts a container there slower than on its default bridge: its
 *    embedded DNS and the endpoint's set-up); for reading, not a goal.
 * Each round runs the two `docker run`s and then the cold start back to back, so a change in the
 * machine's load (2 cores, shared) falls on all three alike.
 */
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import Docker from 'dockerode';
import { waitFor, type AgentProcess } from '../test/agent/support/agents.js';

export const ZERO_STACK = 'autoscalezero';
const SERVICE = 'autoscalezero_web';
export const IMAGE = 'shoal-test/busybox:latest';
const HTTPD = ['httpd', '-f', '-p', '80', '-h', '/www'];

function zeroCompose(port: number): string {
  return [
    'services:',
    '  web:',
    `    image: ${IMAGE}`,
    `    command: ${JSON.stringify(HTTPD)}`,
    `    ports: ["${port}:80"]`,
    '    stop_grace_period: 1s',
    '    x-shoal:',
    '      autoscale: {min: 0, max: 1, target_cpu: 80, sync_period: 1s, idle: 5s, cold_start_timeout: 60s}',
    '',
  ].join('\n');
}

/** One GET; resolves with the status once the whole answer is in. */
function get(port: number, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

interface EventLine {
  readonly time?: number;
  readonly action?: string;
  readonly name?: string;
  readonly message?: string;
}

/** The cluster's events about the zero service from `since` on, as "+ms action name: message". */
async function eventsSince(agent: AgentProcess, since: number, origin: number): Promise<string[]> {
  const reply = await agent.api<string>('GET', `/v1/events?since=${since}`).catch(() => null);
  if (typeof reply?.body !== 'string') return [];
  return reply.body
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as EventLine)
    .filter((e) => e.name?.startsWith(SERVICE) === true && typeof e.time === 'number')
    .map((e) => `+${e.time! - origin} ms ${e.action} ${e.name}: ${e.message}`);
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface ColdResult {
  readonly coldStartMs: number;
  readonly coldStartsMs: readonly number[];
  readonly containerStartMs: number;
  readonly containerStartsMs: readonly number[];
  readonly networkStartMs: number;
  readonly networkStartsMs: readonly number[];
}

/** A user-defined bridge network for the floor's second variant. */
const FLOOR_NETWORK = 'shoal-bench-autoscale-floor';

async function containerStart(port: number, network: string | null = null): Promise<number> {
  const started = performance.now();
  const on = network === null ? [] : ['--network', network];
  const id = execFileSync('docker', ['run', '-d', '--rm', ...on, '-p', `${port}:80`, IMAGE, ...HTTPD], {
    encoding: 'utf8',
  }).trim();
  try {
    for (;;) {
      const status = await get(port, 1_000).catch(() => 0);
      if (status === 200) return performance.now() - started;
      if (performance.now() - started > 30_000) throw new Error('docker run: no answer within 30 s');
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    execFileSync('docker', ['rm', '-f', id], { stdio: 'ignore' });
  }
}

export async function runColdStarts(
  agent: AgentProcess,
  ports: { shoal: number; docker: number },
  rounds: number,
): Promise<ColdResult> {
  const docker = new Docker();
  const replicas = async () =>
    (await agent.api<{ replicas: number }>('GET', `/v1/services/${SERVICE}?stale=1`)).body.replicas;
  const containers = async () =>
    (await docker.listContainers({ all: true, filters: { label: [`shoal.stack=${ZERO_STACK}`] } })).length;
  execFileSync('bash', ['-c', `docker network rm ${FLOOR_NETWORK} || true`], { stdio: 'ignore' }); // an aborted run's
  execFileSync('docker', ['network', 'create', FLOOR_NETWORK], { stdio: 'ignore' });
  try {
    const deployed = await agent.api('POST', '/v1/stacks', {
      name: ZERO_STACK,
      compose: zeroCompose(ports.shoal),
      file: 'compose.yml',
    });
    if (deployed.status !== 200) throw new Error(`deploy failed: ${JSON.stringify(deployed.body)}`);
    const coldStartsMs: number[] = [];
    const containerStartsMs: number[] = [];
    const networkStartsMs: number[] = [];
    for (let round = 0; round < rounds; round++) {
      await waitFor(
        'the service at zero with no container',
        async () => (await replicas()) === 0 && (await containers()) === 0,
        120_000,
        () => agent.output,
      );
      containerStartsMs.push(await containerStart(ports.docker));
      networkStartsMs.push(await containerStart(ports.docker, FLOOR_NETWORK));
      const startedAt = Date.now();
      const started = performance.now();
      const status = await get(ports.shoal, 60_000);
      if (status !== 200) throw new Error(`cold start answered ${status}`);
      coldStartsMs.push(performance.now() - started);
      console.log(
        `cold start ${round + 1}: ${coldStartsMs.at(-1)!.toFixed(0)} ms; the cluster's events, ms after the request:`,
      );
      for (const line of await eventsSince(agent, startedAt - 1_000, startedAt)) console.log(`  ${line}`);
    }
    const list = (xs: number[]) => xs.map((ms) => ms.toFixed(0)).join(', ');
    console.log(`docker run until the first answer: ${list(containerStartsMs)} ms`);
    console.log(`the same on a user-defined bridge network: ${list(networkStartsMs)} ms`);
    return {
      coldStartMs: median(coldStartsMs),
      coldStartsMs,
      containerStartMs: median(containerStartsMs),
      containerStartsMs,
      networkStartMs: median(networkStartsMs),
      networkStartsMs,
    };
  } finally {
    execFileSync('docker', ['network', 'rm', FLOOR_NETWORK], { stdio: 'ignore' });
    await agent.api('DELETE', `/v1/stacks/${ZERO_STACK}`).catch(() => undefined);
    await waitFor('the zero stack gone', async () => (await containers()) === 0, 60_000).catch(() => undefined);
  }
}
