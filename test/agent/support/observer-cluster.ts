/**
 * In-process clusters for the observer design (docs/ARCHITECTURE.md, "100 nodes"): like
 * in-process-cluster.ts (real agents on @libp2p/memory, memory Raft storage, MemoryDriver), with
 * the membership settings a test picks (target voters, standby learners, graces) and Raft storage
 * opened afresh each time a node becomes a member again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { Agent } from '../../../src/agent/agent.js';
import type { AgentConfig } from '../../../src/agent/config.js';
import type { HostResources } from '../../../src/host/index.js';
import type { ConfState } from '../../../src/raft/types.js';
import { MemoryRaftStorage } from '../../../src/raft/storage/index.js';
import { ManualClock, MemoryDriver } from '../../runtime/memory-driver.js';
import type { InProcessAgent } from './in-process-cluster.js';
import { memoryHost } from './memory-host.js';

export interface ObserverClusterOptions {
  readonly nodes: number;
  readonly targetVoters?: 3 | 5 | 'auto';
  readonly standbyLearners?: number;
  readonly voterReplaceGraceMs?: number;
  readonly nodeDownGraceMs?: number;
  /** Raft tick; default 20 ms. */
  readonly tickMs?: number;
}

const NAMES = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa'];

export class ObserverCluster {
  readonly agents: InProcessAgent[];
  readonly #root: string;

  private constructor(root: string, agents: InProcessAgent[]) {
    this.#root = root;
    this.agents = agents;
  }

  /** Start the agents, init on the first, join the others; resolves once every node is registered everywhere. */
  static async start(options: ObserverClusterOptions): Promise<ObserverCluster> {
    const root = await mkdtemp(join(tmpdir(), 'shoal-observers-'));
    const cluster = new ObserverCluster(root, []);
    try {
      for (let i = 0; i < options.nodes; i++) cluster.agents.push(await startAgent(root, i, options));
      const [first, ...rest] = cluster.agents;
      const { token } = await first!.agent.admin.init({});
      const address = first!.agent.advertisedAddresses()[0]!;
      for (const other of rest) await other.agent.admin.join({ address, token });
      await cluster.until(`${options.nodes} registered nodes on every agent`, () =>
        cluster.agents.every((a) => a.agent.store.state.nodes().length === options.nodes),
      );
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The agent that leads now, among those running. */
  leader(): InProcessAgent {
    const found = this.agents.find((a) => a.agent.raft()?.leader === a.agent.id);
    if (!found) throw new Error('no agent leads right now');
    return found;
  }

  /** The leader's Raft configuration, or null during an election. */
  conf(): ConfState | null {
    const leader = this.agents.find((a) => a.agent.raft()?.leader === a.agent.id);
    return leader?.agent.raft()?.status().conf ?? null;
  }

  /** The agents that are not in the Raft configuration. */
  observers(): InProcessAgent[] {
    const conf = this.conf();
    if (!conf) return [];
    return this.agents.filter((a) => !conf.voters.includes(a.agent.id) && !conf.learners.includes(a.agent.id));
  }

  async until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`observer cluster: ${what} did not happen within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.agents.map((a) => a.agent.stop().catch(() => undefined)));
    await rm(this.#root, { recursive: true, force: true });
  }
}

async function startAgent(root: string, index: number, options: ObserverClusterOptions): Promise<InProcessAgent> {
  const name = NAMES[index] ?? `node${index}`;
  const dataDir = join(root, name);
  const config: AgentConfig = {
    dataDir,
    listen: [`/memory/shoal-${randomBytes(6).toString('hex')}-${name}`],
    announce: [],
    apiSocket: '',
    apiListen: [],
    tickMs: options.tickMs ?? 20,
    labels: {},
    logLevel: 'silent',
    init: false,
    voterReplaceGraceMs: options.voterReplaceGraceMs ?? 30_000,
    targetVoters: options.targetVoters ?? 'auto',
    standbyLearners: options.standbyLearners ?? 2,
    snapshotEvery: 10_000,
    mdns: false,
    runtime: 'process',
    ...(options.nodeDownGraceMs === undefined ? {} : { nodeDownGraceMs: options.nodeDownGraceMs }),
  };
  const driver = new MemoryDriver(new ManualClock());
  const host: HostResources = {
    hostname: name,
    cpus: 8,
    memoryBytes: 16 * 1024 ** 3,
    gpus: [],
    gpuSource: 'none',
    warnings: [],
  };
  const agent = new Agent(config, {
    logger: pino({ level: process.env.SHOAL_TEST_LOG ?? 'silent' }),
    createHost: memoryHost,
    // a node made a member again starts on empty storage, as FileRaftStorage does with `fresh`
    openRaftStorage: async () => new MemoryRaftStorage(),
    openDrivers: async () => ({ driver, close: () => undefined }),
    detectHost: async () => host,
  });
  await agent.start();
  return { name, agent, driver, dataDir };
}
