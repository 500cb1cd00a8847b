/**
 * nextWakeAt() against the controllers themselves: at the time it names, a pass decides
 * something it did not decide a millisecond before (a job starts, a unit is retried, a slot is
 * replaced, an old job is collected), and with nothing waiting on the clock it names no time.
 */
import { collectJobs, nextWakeAt, type WorkloadCommandInput } from '../../src/controllers/index.js';
import { T0 } from '../state/helpers.js';
import { BatchSim } from './batch/sim.js';
import { ofType, pass, run } from './support/loop.js';
import { World, spec } from './support/world.js';

const creates = (commands: readonly WorkloadCommandInput[]): number =>
  ofType(commands, 'task.create')?.tasks.length ?? 0;

/** What a full pass of `sim` would create at `at` (nothing applied). */
function createsAt(sim: BatchSim, at: number): number {
  const now = sim.now;
  sim.now = at;
  sim.heartbeat();
  const n = creates(sim.plan());
  sim.now = now;
  return n;
}

describe('nextWakeAt()', () => {
  it('nextWakeAt() is null when nothing waits on the clock', () => {
    const w = new World();
    w.addNode(1);
    w.deploy('web', spec({ replicas: 2 }));
    run(w, 3);
    expect(nextWakeAt(w.state, w.now)).toBeNull();
  });

  it("nextWakeAt() names a job's begin time, when the job starts", () => {
    const sim = new BatchSim();
    const beginAt = T0 + 30_000;
    sim.submit({ beginAt });
    sim.pass();
    expect(nextWakeAt(sim.view, sim.now)).toBe(beginAt);
    expect(createsAt(sim, beginAt - 1)).toBe(0);
    expect(createsAt(sim, beginAt)).toBe(1);
  });

  it("nextWakeAt() names the end of a failed unit's retry back-off, when it is retried", () => {
    const sim = new BatchSim({ runner: (t) => ({ ms: 1000, exitCode: t.job!.attempt === 0 ? 3 : 0 }) });
    const id = sim.submit({ job: '{retries: 1, backoff: {initial: 20s}}' });
    sim.runUntil(() => sim.tasksOf(id).some((t) => t.state === 'failed'), 20);
    sim.step();
    const wake = nextWakeAt(sim.view, sim.now)!;
    const failed = sim.tasksOf(id).find((t) => t.state === 'failed')!;
    expect(wake).toBe(failed.endedAt! + 20_000);
    expect(createsAt(sim, wake - 1)).toBe(0);
    expect(createsAt(sim, wake)).toBe(1);
  });

  it("nextWakeAt() names the end of a crash-looping slot's back-off, when the slot is replaced", () => {
    const w = new World();
    w.addNode(1);
    const id = w.deploy('web', spec({ replicas: 2, restart: { delayMs: 10_000 } }));
    w.crashing.add(id);
    run(w, 2);
    const wake = nextWakeAt(w.state, w.now)!;
    expect(wake).toBeGreaterThan(w.now);
    w.now = wake - 1;
    expect(creates(pass(w))).toBe(0);
    w.now = wake;
    expect(creates(pass(w))).toBeGreaterThan(0);
  });

  it('nextWakeAt() names when an ended job over the history limits may be collected', () => {
    const jobHistory = { jobs: 1, minAgeMs: 60_000 };
    const sim = new BatchSim({ jobHistory });
    sim.submit({ name: 'a' });
    sim.submit({ name: 'b' });
    sim.runToEnd(30);
    const wake = nextWakeAt(sim.view, sim.now, { jobHistory })!;
    expect(wake).toBeGreaterThan(sim.now);
    expect(collectJobs(sim.view, wake - 1, jobHistory)).toEqual([]);
    expect(collectJobs(sim.view, wake, jobHistory)).toHaveLength(1);
  });
});
