/**
 * One seeded simulation run: draw a cluster and its fault profile from the seed, run the fault
 * phase for a number of steps with every check after every step, then heal everything and run
 * fault-free until every acknowledged proposal is applied on every live member (liveness).
 */
import { RaftCore } from '../../../src/raft/core/index.js';
import type { NodeId, RaftConfig } from '../../../src/raft/types.js';
import { Prng } from '../../support/prng.js';
import { Chaos, DEFAULT_WEIGHTS, type ChaosAction } from './chaos.js';
import { SimCluster } from './cluster.js';
import type { DiskBug } from './disk.js';
import type { CoreFactory } from './node.js';
import { InvariantError, SafetyViolation, Trace } from './trace.js';

/** A deliberately broken variant, for the checker's self-test. */
export type PlantedBug = DiskBug;

export interface SimOptions {
  readonly seed: number;
  /** Steps (events) of the fault phase. Default 3000. */
  readonly steps?: number;
  /** Virtual ms the heal phase may take before liveness counts as violated. Default 10,000. */
  readonly healBudgetMs?: number;
  /**
   * Steps the heal phase may take (a message storm burns steps, not virtual time). Default
   * 30,000 or three times `steps`, whichever is more.
   */
  readonly healStepBudget?: number;
  /** Receives every trace line as it happens (`--trace`). */
  readonly traceSink?: (line: string) => void;
  /** How many trace lines a violation carries. Default 80. */
  readonly traceLimit?: number;
  readonly bug?: PlantedBug;
  /** Override how often each fault or operation is drawn (e.g. a crash-heavy profile). */
  readonly weights?: Partial<Record<ChaosAction, number>>;
  /** Build the cores (default `new RaftCore`). */
  readonly makeCore?: CoreFactory;
  /** Merge each Ready's messages as the driver does (default true; false sends them as the core made them). */
  readonly coalesce?: boolean;
}

export interface SimStats {
  readonly nodes: number;
  readonly steps: number;
  readonly virtualMs: number;
  readonly proposals: number;
  readonly acked: number;
  readonly terms: number;
  readonly messages: number;
}

export interface SimResult {
  readonly seed: number;
  readonly violation: SafetyViolation | null;
  readonly stats: SimStats;
}

const defaultCore: CoreFactory = (config, restored) => new RaftCore(config, restored);

/** Draw the cluster's shape and tunables from the seed. */
function drawParams(rng: Prng, options: SimOptions): ConstructorParameters<typeof SimCluster>[0] {
  const size = rng.int(3, 8);
  const learners = rng.chance(0.3) ? rng.int(1, Math.min(2, size - 2) + 1) : 0;
  const pool: NodeId[] = Array.from({ length: size + rng.int(0, 3) }, (_, i) => `n${i + 1}`);
  const coreConfig: Omit<RaftConfig, 'id' | 'random'> = {
    electionTick: rng.pick([6, 10, 15]),
    heartbeatTick: rng.pick([1, 1, 2]),
    preVote: rng.chance(0.75),
    checkQuorum: rng.chance(0.75),
    maxSizePerMsg: rng.pick([16, 256, 1 << 20]),
    maxInflightMsgs: rng.pick([1, 4, 256]),
    snapshotChunkSize: rng.pick([8, 64, 1 << 18]),
  };
  const tickMs = new Map(pool.map((id) => [id, 9 + rng.next() * 2]));
  const bug = options.bug ?? 'none';
  return {
    pool,
    initial: { voters: pool.slice(0, size - learners), learners: pool.slice(size - learners, size) },
    coreConfig,
    tickMs,
    fsyncDelay: rng.pick([
      [0.2, 1],
      [1, 5],
      [2, 20],
    ] as const),
    compactChance: rng.pick([0, 0.02, 0.1]),
    diskBug: bug,
    checkDurableApply: bug === 'none',
    makeCore: options.makeCore ?? defaultCore,
    coalesce: options.coalesce ?? true,
  };
}

/**
 * Run one seed; never throws for a property violation (it is in the result).
 *
 * @example
 * ```ts
 * const { violation } = runSeed({ seed: 7, steps: 2000 });
 * if (violation) console.log(violation.message);
 * ```
 */
export function runSeed(options: SimOptions): SimResult {
  const seed = options.seed;
  const rng = new Prng(seed);
  const trace = new Trace(options.traceLimit ?? 80, options.traceSink ?? null);
  const params = drawParams(rng, options);
  const cluster = new SimCluster(params, rng.fork(), trace);
  const chaos = new Chaos(cluster, { ...DEFAULT_WEIGHTS, ...options.weights });
  cluster.onSend = (message) => chaos.afterSend(message);
  let steps = 0;
  const stats = (): SimStats => ({
    nodes: cluster.nodes.size,
    steps,
    virtualMs: Math.round(cluster.queue.now),
    proposals: chaos.proposals,
    acked: cluster.checker.acked.size,
    terms: cluster.checker.leaders.size,
    messages: cluster.network.sent,
  });
  const c = params.coreConfig;
  cluster.log(
    `seed ${seed}: voters=${params.initial.voters.join(',')} learners=${params.initial.learners.join(',') || '-'} pool=${params.pool.length} ` +
      `electionTick=${c.electionTick} heartbeatTick=${c.heartbeatTick} preVote=${c.preVote} checkQuorum=${c.checkQuorum} ` +
      `maxSizePerMsg=${c.maxSizePerMsg} inflight=${c.maxInflightMsgs} chunk=${c.snapshotChunkSize} fsync=${params.fsyncDelay.join('-')}ms ` +
      `compact=${params.compactChance} bug=${params.diskBug}`,
  );
  try {
    cluster.network.faults.maxDelay = rng.pick([3, 10, 30]);
    for (const id of [...params.initial.voters, ...params.initial.learners]) cluster.startNew(id);
    chaos.schedule(rng.pick([10, 30, 60]));

    const faultSteps = options.steps ?? 3000;
    while (steps < faultSteps && cluster.step()) steps++;

    heal(cluster, chaos);
    const deadline = cluster.queue.now + (options.healBudgetMs ?? 10_000);
    // Propose a last command (again, under a new id, until one is acknowledged): the healed
    // cluster must make progress, not only keep what it had.
    const finals: string[] = [];
    let lastFinalProposal = -Infinity;
    let missing: string | null = 'not checked yet';
    const healSteps = options.healStepBudget ?? Math.max(30_000, 3 * faultSteps);
    const stepDeadline = steps + healSteps;
    while (cluster.queue.now < deadline) {
      if (steps > stepDeadline) {
        throw new InvariantError(
          'liveness',
          `the cluster did not settle within ${healSteps} steps after healing (${cluster.network.sent} messages so far: a message storm?): ${missing}`,
        );
      }
      const finalAcked = finals.some((id) => cluster.checker.acked.has(id));
      if (!finalAcked && cluster.queue.now - lastFinalProposal > 300) {
        const leader = cluster.leader();
        if (leader) {
          finals.push(`final${finals.length + 1}`);
          leader.propose(finals[finals.length - 1]!);
          lastFinalProposal = cluster.queue.now;
        }
      }
      for (let i = 0; i < 100 && cluster.step(); i++) steps++;
      missing = livenessGap(cluster, finals);
      if (missing === null) break;
    }
    if (missing !== null) {
      throw new InvariantError(
        'liveness',
        `${Math.round(options.healBudgetMs ?? 10_000)} virtual ms after healing: ${missing}`,
      );
    }
    checkExactlyOnce(cluster);
    return { seed, violation: null, stats: stats() };
  } catch (error) {
    const property = error instanceof InvariantError ? error.property : 'core error';
    const detail = error instanceof InvariantError ? error.message : String((error as Error).stack ?? error);
    return { seed, violation: new SafetyViolation(property, detail, seed, trace.lines()), stats: stats() };
  }
}

/** End the fault phase: heal the network, stop losing messages, restart every crashed node. */
function heal(cluster: SimCluster, chaos: Chaos): void {
  chaos.active = false;
  cluster.network.heal();
  cluster.network.faults.dropRate = 0;
  cluster.network.faults.duplicateRate = 0;
  cluster.log('HEAL: network healed, faults off, every node restarted');
  for (const node of cluster.nodes.values()) if (!node.up) cluster.startNew(node.id);
}

/** What still stands between the cluster and liveness, or null when it is reached. */
function livenessGap(cluster: SimCluster, finals: readonly string[]): string | null {
  const leader = cluster.leader();
  if (!leader) return 'no leader';
  const acked = cluster.checker.acked;
  if (!finals.some((id) => acked.has(id))) return `no final proposal is acknowledged yet (${finals.length} proposed)`;
  const conf = leader.status()!.conf;
  let maxAcked = 0;
  for (const index of acked.values()) maxAcked = Math.max(maxAcked, index);
  for (const id of [...conf.voters, ...conf.learners]) {
    const node = cluster.nodes.get(id);
    if (!node?.up) return `member ${id} is not running`;
    if (node.applied < maxAcked)
      return `member ${id} applied ${node.applied} < ${maxAcked}, the last acknowledged index`;
  }
  return null;
}

/** Every acknowledged proposal appears exactly once in the applied history. */
function checkExactlyOnce(cluster: SimCluster): void {
  const acked = cluster.checker.acked;
  const occurrences = cluster.checker.countApplied((entry) => entry.data.length > 0);
  for (const [id, index] of acked) {
    const at = occurrences.get(id) ?? [];
    if (at.length !== 1 || at[0] !== index) {
      throw new InvariantError(
        'exactly once',
        `acknowledged proposal ${id} (index ${index}) is applied at [${at.join(', ')}]`,
      );
    }
  }
}
