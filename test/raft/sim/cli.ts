/**
 * Run the Raft simulator over seeds:
 *
 *   npm run sim:raft -- --seeds 100 [--start 1] [--steps 3000]
 *   npm run sim:raft -- --seed 42 --trace        # replay one seed and print every event
 *   npm run sim:raft -- --seeds 50 --bug lyingFsync   # the planted bug must be caught
 *   npm run sim:raft -- --seeds 100 --raw-messages    # send messages as the core made them (no driver merging)
 *
 * Prints each failing seed with its property and trace, then exactly one summary line
 * `seeds=N violations=V`; exits 1 when V > 0.
 */
import { parseArgs } from 'node:util';
import { runSeed, type PlantedBug } from './simulation.js';

/** Many more crashes and forced elections: finds bugs that need a crash at the right moment. */
const CRASH_HEAVY = { crash: 25, campaign: 8, transfer: 6 };

const USAGE =
  'usage: sim:raft -- --seeds N [--start S] | --seed S [--steps K] [--trace] [--bug none|lyingFsync|forgetVote] [--crash-heavy] [--raw-messages] [--verbose]';

function parse(): {
  seeds: number[];
  steps: number;
  trace: boolean;
  bug: PlantedBug;
  verbose: boolean;
  crashHeavy: boolean;
  rawMessages: boolean;
} {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string' },
      start: { type: 'string' },
      seed: { type: 'string' },
      steps: { type: 'string' },
      trace: { type: 'boolean', default: false },
      bug: { type: 'string', default: 'none' },
      verbose: { type: 'boolean', default: false },
      'crash-heavy': { type: 'boolean', default: false },
      'raw-messages': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, text: string | undefined, fallback: number): number => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0)
      throw new RangeError(
        `Cannot run the simulator as --${name} must be a non-negative integer: got "${text}"\n${USAGE}`,
      );
    return n;
  };
  const bug = values.bug as PlantedBug;
  if (!['none', 'lyingFsync', 'forgetVote'].includes(bug))
    throw new RangeError(`Cannot run the simulator as --bug "${bug}" is unknown\n${USAGE}`);
  const steps = int('steps', values.steps, 3000);
  if (values.seed !== undefined)
    return {
      seeds: [int('seed', values.seed, 0)],
      steps,
      trace: values.trace,
      bug,
      verbose: values.verbose,
      crashHeavy: values['crash-heavy'],
      rawMessages: values['raw-messages'],
    };
  const count = int('seeds', values.seeds, 100);
  const start = int('start', values.start, 1);
  return {
    seeds: Array.from({ length: count }, (_, i) => start + i),
    steps,
    trace: values.trace,
    bug,
    verbose: values.verbose,
    crashHeavy: values['crash-heavy'],
    rawMessages: values['raw-messages'],
  };
}

function main(): number {
  const args = parse();
  let violations = 0;
  for (const seed of args.seeds) {
    const result = runSeed({
      seed,
      steps: args.steps,
      bug: args.bug,
      ...(args.crashHeavy ? { weights: CRASH_HEAVY } : {}),
      ...(args.rawMessages ? { coalesce: false } : {}),
      ...(args.trace ? { traceSink: (line: string) => console.log(line) } : {}),
    });
    const s = result.stats;
    if (result.violation) {
      violations++;
      console.log(`seed ${seed} FAILED: ${result.violation.message}\n`);
    } else if (args.verbose || args.trace) {
      console.log(
        `seed ${seed} ok: nodes=${s.nodes} steps=${s.steps} virtual=${s.virtualMs}ms proposals=${s.proposals} acked=${s.acked} terms=${s.terms} messages=${s.messages}`,
      );
    }
  }
  console.log(`seeds=${args.seeds.length} violations=${violations}`);
  return violations > 0 ? 1 : 0;
}

try {
  process.exitCode = main();
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 2;
}
