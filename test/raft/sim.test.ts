/**
 * The deterministic Raft simulator over many seeds: every safety property after every step,
 * liveness after healing. And a self-test: a planted bug must make the checker fail.
 */
import { RaftCore } from '../../src/raft/core/index.js';
import type { RaftCoreApi } from '../../src/raft/interfaces.js';
import type { Ready } from '../../src/raft/types.js';
import { runSeed, type SimResult } from './sim/index.js';

const SEEDS = 300;
const STEPS = 8000;
/** The CLI's crash-heavy profile: many more crashes and forced elections. */
const CRASH_HEAVY = { crash: 25, campaign: 8, transfer: 6 };

/**
 * Where today's seeds start: a new range every day (SHOAL_SIM_START overrides), so that CI
 * explores new seeds over time. Printed, so that a failure replays with the CLI.
 */
function seedStart(): number {
  const forced = process.env.SHOAL_SIM_START;
  if (forced !== undefined && /^\d+$/.test(forced)) return Number(forced);
  const day = Math.floor(Date.now() / 86_400_000);
  return 1 + (day % 100_000) * 1000;
}
const START = seedStart();

const SAFETY = [
  'election safety',
  'log matching',
  'leader completeness',
  'state machine safety',
  'linearizable read',
  'exactly once',
];

function summary(results: readonly SimResult[]): string[] {
  return results.filter((r) => r.violation).map((r) => r.violation!.message.split('\n').slice(0, 2).join(' | '));
}

describe('Raft simulator', () => {
  beforeAll(() => {
    console.log(
      `Raft simulator: today's seeds start at ${START}; replay with npm run sim:raft -- --seeds ${SEEDS} --start ${START} [--crash-heavy]`,
    );
  });

  it(`runSeed() finds no violation on ${SEEDS} seeds of faults (crashes, torn disks, partitions, loss, membership, transfers)`, () => {
    const results: SimResult[] = [];
    for (let seed = START; seed < START + SEEDS; seed++) results.push(runSeed({ seed, steps: STEPS }));
    const failures = results.filter((r) => r.violation);
    // Print the first full trace: the summary below only names seeds and properties.
    if (failures.length > 0) console.log(failures[0]!.violation!.message);
    expect(summary(results)).toEqual([]);
    // The runs did real work: leaders were elected and proposals acknowledged on most seeds.
    expect(results.filter((r) => r.stats.acked > 0).length).toBeGreaterThan(SEEDS * 0.8);
  }, 180_000);

  it(`runSeed() finds no violation on ${SEEDS} crash-heavy seeds`, () => {
    const results: SimResult[] = [];
    for (let seed = START; seed < START + SEEDS; seed++)
      results.push(runSeed({ seed, steps: 3000, weights: CRASH_HEAVY }));
    const failures = results.filter((r) => r.violation);
    if (failures.length > 0) console.log(failures[0]!.violation!.message);
    expect(summary(results)).toEqual([]);
  }, 180_000);

  // Each failed before its fix: a torn tail that kept a Ready's entries without its hard state
  // (2677, 7106, 7862), an acknowledgement of entries replaced later in the same Ready (4792),
  // a crash scheduled before the heal that ran after it, with nobody left to restart the node
  // (6632), a removed voter that never learnt it deposing every leader before it could finish
  // a snapshot transfer, with neither pre-vote nor check-quorum (35666), a stale vote request
  // dropped instead of refused with the current term (14866), a restarted snapshot transfer
  // credited with the acks of the one before (18003); crash-heavy: 1960 of the first kind, 130
  // of the crash before the heal.
  it.each([
    [2677, false],
    [7106, false],
    [7862, false],
    [4792, false],
    [6632, false],
    [35666, false],
    [14866, false],
    [18003, false],
    [1960, true],
    [130, true],
  ])('runSeed() replays the once-failing seed %i without a violation', (seed, crashHeavy) => {
    const result = runSeed({ seed, steps: 3000, ...(crashHeavy ? { weights: CRASH_HEAVY } : {}) });
    expect(result.violation?.message.split('\n')[0] ?? null).toBeNull();
  });

  it('runSeed() is deterministic: a seed replays the same events', () => {
    const run = (): string[] => {
      const lines: string[] = [];
      runSeed({ seed: 42, steps: 1500, traceSink: (line) => lines.push(line) });
      return lines;
    };
    const first = run();
    expect(first.length).toBeGreaterThan(100);
    expect(run()).toEqual(first);
  });

  it('runSeed() catches a disk that lies about fsync (planted bug) through the safety checks alone', () => {
    const caught: SimResult[] = [];
    for (let seed = 1; seed <= 30 && caught.length < 2; seed++) {
      const result = runSeed({ seed, steps: 5000, bug: 'lyingFsync', healBudgetMs: 5000, healStepBudget: 3000 });
      if (result.violation && SAFETY.includes(result.violation.property)) caught.push(result);
    }
    expect(caught.length).toBeGreaterThan(0);
    const message = caught[0]!.violation!.message;
    expect(message).toContain(`seed ${caught[0]!.seed}`);
    expect(message).toContain('npm run sim:raft -- --seed');
    expect(caught[0]!.violation!.trace.length).toBeGreaterThan(10);
  });

  it('runSeed() catches a disk that drops the vote from the hard state, under crash-heavy faults', () => {
    let caught: SimResult | null = null;
    for (let seed = 1; seed <= 80 && !caught; seed++) {
      const result = runSeed({
        seed,
        steps: 5000,
        bug: 'forgetVote',
        weights: { crash: 25, campaign: 8, transfer: 6 },
        healStepBudget: 3000,
      });
      if (result.violation && SAFETY.includes(result.violation.property)) caught = result;
    }
    // A node that forgets its vote votes twice in a term: two leaders.
    expect(caught?.violation?.property).toBe('election safety');
  });

  it('runSeed() catches a core wrapper that never asks for fsync (messages sent before entries are durable)', () => {
    const makeCore = (...args: ConstructorParameters<typeof RaftCore>): RaftCoreApi => {
      const core = new RaftCore(...args);
      return new Proxy(core, {
        get(target, key) {
          if (key === 'ready') return (): Ready => ({ ...target.ready(), mustSync: false });
          if (key === 'advance') return (ready: Ready) => target.advance(ready);
          const value = Reflect.get(target, key, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    };
    let caught: SimResult | null = null;
    for (let seed = 1; seed <= 30 && !caught; seed++) {
      const result = runSeed({ seed, steps: 3000, makeCore, healBudgetMs: 5000, healStepBudget: 3000 });
      if (result.violation) caught = result;
    }
    expect(caught?.violation?.property).toBeDefined();
  });
});
