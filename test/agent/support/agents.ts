/**
 * Real agent processes for integration tests: each runs the bundled binary (build/shoal.cjs,
 * built by jest's global setup) on Node 24 with its own data dir, a random loopback libp2p port
 * and its admin API on a unix socket in the data dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(process.cwd());
export const BUNDLE = join(REPO, 'build/shoal.cjs');
export const NODE = join(REPO, 'node_modules/.bin/node');

export interface ApiReply<T = unknown> {
  readonly status: number;
  readonly body: T;
}

export class AgentProcess {
  readonly name: string;
  readonly dataDir: string;
  readonly socket: string;
  #proc: ChildProcess | null = null;
  #output = '';
  #exit: Promise<number | null> | null = null;

  constructor(name: string, root: string) {
    this.name = name;
    this.dataDir = join(root, name);
    this.socket = join(this.dataDir, 'shoal.sock');
  }

  get running(): boolean {
    return this.#proc !== null && this.#proc.exitCode === null && this.#proc.signalCode === null;
  }

  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  /** The agent's log so far (pino JSON lines), for failure messages. */
  get output(): string {
    return this.#output;
  }

  /**
   * Start the agent. `netns` runs it inside a network namespace the test made (then pass a
   * `--listen` on that namespace's address in extraArgs; the last --listen wins).
   */
  start(extraArgs: readonly string[] = [], env: NodeJS.ProcessEnv = {}, netns?: string): void {
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: jest's global setup could not bundle src/main.ts`);
    const listen = extraArgs.includes('--listen') ? [] : ['--listen', '/ip4/127.0.0.1/tcp/0'];
    const args = [
      ...nodeFlags(),
      BUNDLE,
      'agent',
      '--data-dir',
      this.dataDir,
      ...listen,
      '--api',
      'none',
      '--tick-ms',
      '50',
      '--log-level',
      'info',
      ...extraArgs,
    ];
    // nsenter, not `ip netns exec`: that remounts /sys and hides the cgroup v1 mounts
    const [command, argv] = netns ? ['nsenter', [`--net=/run/netns/${netns}`, '--', NODE, ...args]] : [NODE, args];
    const proc = spawn(command, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#output = '';
    proc.stdout!.on('data', (chunk: Buffer) => (this.#output += chunk.toString()));
    proc.stderr!.on('data', (chunk: Buffer) => (this.#output += chunk.toString()));
    this.#exit = new Promise((resolveExit) => proc.on('exit', (code) => resolveExit(code)));
    this.#proc = proc;
  }

  /** kill -9: no goodbye, no leadership hand-off. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.#proc || !this.running) return;
    this.#proc.kill(signal);
    await this.#exit;
  }

  /** Call the admin API over the unix socket. */
  api<T = unknown>(method: string, path: string, body?: unknown, timeoutMs = 15_000): Promise<ApiReply<T>> {
    return new Promise((resolveReply, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          socketPath: this.socket,
          // A fresh connection each time: a pooled one may have been closed by the agent while
          // the caller's event loop was blocked (a bench running a shell loop synchronously).
          agent: false,
          method,
          path,
          headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
          timeout: timeoutMs,
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => {
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : null;
            } catch {
              /* keep the text */
            }
            resolveReply({ status: res.statusCode ?? 0, body: parsed as T });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} on ${this.name} timed out`)));
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  /** Wait until the admin API answers. */
  async waitForApi(timeoutMs = 20_000): Promise<void> {
    await waitFor(
      `${this.name}'s admin API`,
      async () => (await this.api('GET', '/v1/status?stale=1').catch(() => null))?.status === 200,
      timeoutMs,
      () => this.#output,
    );
  }

  /** Run the CLI (bundled) against this agent. */
  cli(
    args: readonly string[],
    env: NodeJS.ProcessEnv = {},
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolveRun) => {
      const proc = spawn(NODE, [BUNDLE, ...args], {
        env: { ...process.env, SHOAL_ADDR: `unix://${this.socket}`, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      proc.on('exit', (code) => resolveRun({ code, stdout, stderr }));
    });
  }
}

/** A temp root with N agents (not started). `cleanup()` kills them and removes the files. */
export function makeAgents(
  count: number,
  prefix = 'shoal-it-',
): { root: string; agents: AgentProcess[]; cleanup: () => Promise<void> } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const agents = Array.from({ length: count }, (_, i) => new AgentProcess(`n${i + 1}`, root));
  return {
    root,
    agents,
    cleanup: async () => {
      // A profiled agent writes its profile on a graceful exit only.
      const signal = nodeFlags().length > 0 ? 'SIGTERM' : 'SIGKILL';
      await Promise.all(agents.map((agent) => agent.kill(signal)));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export async function waitFor(
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
  context?: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${context ? `\n--- log ---\n${context().slice(-4000)}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface StatusBody {
  leader: string | null;
  term: number;
  members: { id: string; raftRole: string; addresses: string[]; reachable: boolean | null }[];
}

/**
 * Start the first agent with --init, join the others through it, and wait for `voters` voters
 * (default: 3, or fewer agents). `flags` go to every agent.
 */
export async function bootstrapCluster(
  agents: AgentProcess[],
  options: {
    voters?: number;
    flags?: readonly string[];
    /**
     * Per agent: extra flags (e.g. its --listen), the network namespace it runs in and extra
     * environment (e.g. the DOCKER_HOST of its own engine on the test bed).
     */
    placeOf?: (index: number) => { flags: readonly string[]; netns?: string; env?: NodeJS.ProcessEnv };
  } = {},
): Promise<{ token: string; joinAddress: string; ids: string[] }> {
  const voters = options.voters ?? Math.min(agents.length, 3);
  const flags = options.flags ?? [];
  const place = (i: number) => options.placeOf?.(i) ?? { flags: [] };
  const [first, ...rest] = agents;
  first!.start(['--init', ...flags, ...place(0).flags], place(0).env ?? {}, place(0).netns);
  await first!.waitForApi();
  let token = '';
  await waitFor(
    'the join token',
    async () => {
      const reply = await first!.api<{ token: string }>('GET', '/v1/token');
      token = reply.status === 200 ? reply.body.token : '';
      return token !== '';
    },
    20_000,
    () => first!.output,
  );
  const status = await first!.api<StatusBody>('GET', '/v1/status');
  const joinAddress = status.body.members.find((m) => m.id === status.body.leader)!.addresses[0]!;
  rest.forEach((agent, i) =>
    agent.start(
      ['--join', joinAddress, '--token', token, ...flags, ...place(i + 1).flags],
      place(i + 1).env ?? {},
      place(i + 1).netns,
    ),
  );
  await Promise.all(rest.map((agent) => agent.waitForApi()));
  await waitFor(
    `${voters} voters`,
    async () => {
      const reply = await first!.api<StatusBody>('GET', '/v1/status').catch(() => null);
      return reply?.status === 200 && reply.body.members.filter((m) => m.raftRole === 'voter').length === voters;
    },
    30_000,
    () => agents.map((a) => `[${a.name}]\n${a.output.slice(-1500)}`).join('\n'),
  );
  const ids = await Promise.all(
    agents.map(async (a) => (await a.api<{ nodeId: string }>('GET', '/v1/status?stale=1')).body.nodeId),
  );
  return { token, joinAddress, ids };
}

export type { StatusBody };

/**
 * Extra Node.js flags for the agents, from `SHOAL_AGENT_NODE_FLAGS` (space-separated), for
 * profiling: `--cpu-prof` is not allowed in NODE_OPTIONS.
 * @example SHOAL_AGENT_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench:scale -- --nodes 12
 */
function nodeFlags(): string[] {
  return (process.env.SHOAL_AGENT_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
}
