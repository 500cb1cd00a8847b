/**
 * A whole shoal cluster in one jest process: N real agents (the production Agent, every part of
 * it) on the in-memory libp2p transport, memory Raft storage and a fake container driver, with a
 * fast Raft tick. The first agent inits the cluster, the others join it with its token, exactly
 * as `shoal init` / `shoal join` do. No sockets, no child processes, no Docker.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pino, type Logger } from 'pino';
import { Agent, type AgentComponents } from '../../../src/agent/agent.js';
import type { AgentConfig } from '../../../src/agent/config.js';
import type { OpenDrivers } from '../../../src/agent/runtime-drivers.js';
import type { HostResources } from '../../../src/host/index.js';
import { realClock } from '../../../src/raft/driver/clock.js';
import { MemoryRaftStorage } from '../../../src/raft/storage/index.js';
import { MemoryDriver } from '../../runtime/memory-driver.js';
import { memoryHost } from './memory-host.js';

/** One agent of the cluster and what a test may look at or act on. */
export interface InProcessAgent {
  readonly name: string;
  readonly agent: Agent;
  /**
   * Its fake container driver, on the wall clock: containers it "runs", `print()` to make one
   * write a line of output, `exit()` to end one with a code.
   */
  readonly driver: MemoryDriver;
  readonly dataDir: string;
}

export interface InProcessOptions {
  /** Agents in the cluster; default 1. */
  readonly nodes?: number;
  /** Their hostnames; default alpha, beta, gamma, delta, ... */
  readonly hostnames?: readonly string[];
  /** Labels per agent, by index. */
  readonly labels?: readonly Readonly<Record<string, string>>[];
  /** Create the cluster (init on the first, join the others); default true. False: agents with no cluster. */
  readonly form?: boolean;
  readonly clusterName?: string;
  /** Raft tick; default 20 ms (elections after 200-400 ms). */
  readonly tickMs?: number;
  /** The agents' real drivers (e.g. `hostDrivers('process', dataDir)`); default the memory driver. */
  readonly drivers?: (name: string, dataDir: string) => OpenDrivers;
  /** Where each agent's deploys pin images (AgentComponents.images); default none (images stay as written). */
  readonly images?: (name: string) => AgentComponents['images'];
  /** Each agent's logger; default silent. */
  readonly logger?: (name: string) => Logger;
}

const HOSTNAMES = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];

export class InProcessCluster {
  readonly agents: InProcessAgent[];
  readonly #root: string;

  private constructor(root: string, agents: InProcessAgent[]) {
    this.#root = root;
    this.agents = agents;
  }

  /** Start `nodes` agents and (unless `form: false`) make them one cluster, every member caught up. */
  static async start(options: InProcessOptions = {}): Promise<InProcessCluster> {
    const root = await mkdtemp(join(tmpdir(), 'shoal-inproc-'));
    const count = options.nodes ?? 1;
    const agents: InProcessAgent[] = [];
    const cluster = new InProcessCluster(root, agents);
    try {
      for (let i = 0; i < count; i++) agents.push(await startAgent(root, i, options));
      if (options.form !== false) await cluster.#form(options.clusterName);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The agent that leads now. */
  leader(): InProcessAgent {
    const found = this.agents.find((a) => a.agent.raft()?.leader === a.agent.id);
    if (!found) throw new Error('no agent leads right now');
    return found;
  }

  /** The agent whose node id is `id`. */
  byId(id: string): InProcessAgent {
    const found = this.agents.find((a) => a.agent.id === id);
    if (!found) throw new Error(`no agent has the node id ${id}`);
    return found;
  }

  /** Resolves once `check` holds, polling every 10 ms; fails after `timeoutMs` naming `what`. */
  async until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`in-process cluster: ${what} did not happen within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.agents.map((a) => a.agent.stop().catch(() => undefined)));
    await rm(this.#root, { recursive: true, force: true });
  }

  async #form(name?: string): Promise<void> {
    const [first, ...rest] = this.agents;
    const { token } = await first!.agent.admin.init(name === undefined ? {} : { clusterName: name });
    const address = first!.agent.advertisedAddresses()[0]!;
    for (const other of rest) await other.agent.admin.join({ address, token });
    const count = this.agents.length;
    await this.until(`${count} registered nodes on every agent`, () =>
      this.agents.every((a) => a.agent.store.state.nodes().length === count),
    );
    await this.until('a leader', () => this.agents.some((a) => a.agent.raft()?.leader === a.agent.id));
    // the leader's membership loop promotes learners one a pass: wait for the voters it aims at
    const voters = count >= 5 ? 5 : Math.min(count, 3);
    await this.until(`${voters} voters`, () => {
      const leader = this.agents.find((a) => a.agent.raft()?.leader === a.agent.id);
      return leader?.agent.raft()?.status().conf.voters.length === voters;
    });
  }
}

async function startAgent(root: string, index: number, options: InProcessOptions): Promise<InProcessAgent> {
  const name = options.hostnames?.[index] ?? HOSTNAMES[index] ?? `node${index}`;
  const dataDir = join(root, name);
  const config: AgentConfig = {
    dataDir,
    listen: [`/memory/shoal-${randomBytes(6).toString('hex')}-${name}`],
    announce: [],
    apiSocket: '',
    apiListen: [],
    tickMs: options.tickMs ?? 20,
    labels: options.labels?.[index] ?? {},
    logLevel: 'silent',
    init: false,
    voterReplaceGraceMs: 30_000,
    // Learners are promoted one a pass: at 500 ms a 3-node cluster takes seconds to form.
    membershipIntervalMs: 50,
    targetVoters: 'auto',
    snapshotEvery: 10_000,
    mdns: false,
    runtime: 'process',
  };
  const driver = new MemoryDriver(realClock, { firstLine: null });
  const storage = new MemoryRaftStorage();
  const host: HostResources = {
    hostname: name,
    cpus: 8,
    memoryBytes: 16 * 1024 ** 3,
    gpus: [],
    gpuSource: 'none',
    warnings: [],
  };
  const agent = new Agent(config, {
    logger: options.logger?.(name) ?? pino({ level: 'silent' }),
    createHost: memoryHost,
    openRaftStorage: async () => storage,
    openDrivers: options.drivers?.(name, dataDir) ?? (async () => ({ driver, close: () => undefined })),
    detectHost: async () => host,
    ...(options.images === undefined ? {} : { images: options.images(name) }),
  });
  await agent.start();
  return { name, agent, driver, dataDir };
}
