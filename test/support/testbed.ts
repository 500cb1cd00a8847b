/**
 * A cluster of separate machines on this one: node i is a network namespace with its own address
 * on a bridge ({@link NetBed}), its own Docker Engine ({@link NetnsEngine}) and its own agent, so
 * nothing passes between nodes but the cluster's own traffic and each node's containers are its
 * engine's alone. `npm run testbed -- up N` keeps one running for people (its state in
 * `<root>/testbed.json`); tests make their own with {@link TestBed.create} and run agents with
 * {@link TestBed.agentPlace}.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { NetBed, type NetHost } from './netbed.js';
import { NetnsEngine } from './netns-engine.js';

/**
 * Whether a test bed can run here (root, to make namespaces, and a dockerd to start in them); when
 * not, says so on stdout, naming `what` is skipped.
 * @example (testBedCanRun('the service mesh test bed') ? describe : describe.skip)('…', () => {…});
 */
export function testBedCanRun(what: string): boolean {
  const root = process.getuid?.() === 0;
  const dockerd = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].some((p) => existsSync(p));
  if (!(root && dockerd))
    process.stdout.write(`skipping ${what}: it needs root and dockerd (root: ${root}, dockerd: ${dockerd})\n`);
  return root && dockerd;
}

export const TESTBED_ROOT = '/var/tmp/shoal-testbed';
/** Every node listens for its peers on this port of its own address. */
export const P2P_PORT = 7946;

export interface TestBedNode {
  readonly index: number;
  readonly host: NetHost;
  readonly engine: NetnsEngine;
  /** The agent's data dir; its admin API socket is `<dataDir>/shoal.sock`. */
  readonly dataDir: string;
  readonly socket: string;
}

interface SavedBed {
  readonly tag: string;
  readonly count: number;
  /** Agent pids by node index. */
  readonly agentPids: Record<number, number>;
}

export class TestBed {
  readonly nodes: TestBedNode[];
  readonly #net: NetBed;
  #agentPids: Record<number, number>;

  private constructor(
    readonly root: string,
    net: NetBed,
    agentPids: Record<number, number>,
  ) {
    this.#net = net;
    this.#agentPids = agentPids;
    this.nodes = net.hosts.map((host, index) => {
      const dir = join(root, `n${index + 1}`);
      return {
        index,
        host,
        engine: new NetnsEngine(host.name, join(dir, 'engine'), `172.30.${index + 1}.1/24`),
        dataDir: join(dir, 'agent'),
        socket: join(dir, 'agent', 'shoal.sock'),
      };
    });
  }

  /** A new bed of `count` nodes under `root` (nothing runs until {@link up}). */
  static create(count: number, root: string): TestBed {
    if (!Number.isInteger(count) || count < 1 || count > 20)
      throw new Error(`a test bed has 1 to 20 nodes, not ${count}`);
    return new TestBed(root, new NetBed(count), {});
  }

  /** The bed `npm run testbed -- up` left running under `root`, or null. */
  static open(root: string = TESTBED_ROOT): TestBed | null {
    const file = join(root, 'testbed.json');
    if (!existsSync(file)) return null;
    const saved = JSON.parse(readFileSync(file, 'utf8')) as SavedBed;
    return new TestBed(root, new NetBed(saved.count, saved.tag, true), saved.agentPids);
  }

  /** Make the namespaces and links, start every engine and copy `images` into each. */
  async up(images: readonly string[] = []): Promise<void> {
    mkdirSync(this.root, { recursive: true });
    this.#save();
    this.#net.up();
    await Promise.all(this.nodes.map((node) => node.engine.start()));
    for (const node of this.nodes) node.engine.loadImages(images);
  }

  /** Where agent i runs: the flags that put it on its node's address, its namespace, its engine. */
  agentPlace(i: number): { flags: string[]; netns: string; env: Record<string, string> } {
    const node = this.#node(i);
    return {
      flags: ['--listen', `/ip4/${node.host.address}/tcp/${P2P_PORT}`],
      netns: node.host.name,
      env: { DOCKER_HOST: node.engine.dockerHost },
    };
  }

  /**
   * Start agent i detached (it outlives this process), logging to `<dataDir>/../agent.log`.
   * `command` is the agent's program and arguments before `agent` (node and the bundle).
   */
  startAgent(i: number, command: readonly string[], extraArgs: readonly string[]): void {
    const node = this.#node(i);
    const place = this.agentPlace(i);
    mkdirSync(node.dataDir, { recursive: true });
    const out = openSync(join(node.dataDir, '..', 'agent.log'), 'a');
    const agent = [...command, 'agent', '--data-dir', node.dataDir, ...place.flags, '--api', 'none', ...extraArgs];
    // Its own UTS namespace too, so that each node has its own host name (n1, n2, ...).
    const child = spawn(
      'nsenter',
      [
        `--net=/run/netns/${place.netns}`,
        '--',
        'unshare',
        '--uts',
        'sh',
        '-c',
        'hostname "$0" && exec "$@"',
        `n${i + 1}`,
        ...agent,
      ],
      { detached: true, stdio: ['ignore', out, out], env: { ...process.env, ...place.env } },
    );
    child.unref();
    if (child.pid !== undefined) this.#agentPids[i] = child.pid;
    this.#save();
  }

  /** SIGTERM node i's agent and wait (at most `timeoutMs`) until it exits: profiles get written. */
  async stopAgent(i: number, timeoutMs = 10_000): Promise<void> {
    const pid = this.#agentPids[i];
    if (pid === undefined) return;
    signal(pid, 'SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && isAlive(pid)) await new Promise((r) => setTimeout(r, 100));
    delete this.#agentPids[i];
    this.#save();
  }

  /** Pull node i's cable: its packets are dropped both ways, with no reset ({@link NetBed.cut}). */
  cut(i: number): void {
    this.#node(i);
    this.#net.cut(i);
  }

  /** Plug node i's cable back in. */
  heal(i: number): void {
    this.#node(i);
    this.#net.heal(i);
  }

  /** kill -9 node i's agent (what a machine's crash does to it). */
  killAgent(i: number): void {
    const pid = this.#agentPids[i];
    if (pid !== undefined) signal(pid, 'SIGKILL');
    delete this.#agentPids[i];
    this.#save();
  }

  /** GET an agent's admin API over its unix socket (null when it does not answer). */
  async api<T>(i: number, path: string): Promise<T | null> {
    const socketPath = this.#node(i).socket;
    return new Promise((resolve) => {
      const req = request({ socketPath, path, agent: false, timeout: 5_000 }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(res.statusCode === 200 ? (JSON.parse(text) as T) : null));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(null));
      req.end();
    });
  }

  /** Stop agents and engines, remove namespaces and files. Safe to call twice. */
  async down(): Promise<void> {
    for (const pid of Object.values(this.#agentPids)) signal(pid, 'SIGKILL');
    this.#agentPids = {};
    await Promise.all(this.nodes.map((node) => node.engine.stop()));
    for (const node of this.nodes) node.engine.remove();
    this.#net.down();
    rmSync(this.root, { recursive: true, force: true });
  }

  #node(i: number): TestBedNode {
    const node = this.nodes[i];
    if (!node) throw new Error(`the test bed has nodes 0..${this.nodes.length - 1}, not ${i}`);
    return node;
  }

  #save(): void {
    const saved: SavedBed = { tag: this.#net.tag, count: this.nodes.length, agentPids: this.#agentPids };
    writeFileSync(join(this.root, 'testbed.json'), JSON.stringify(saved, null, 2));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone already
  }
}
