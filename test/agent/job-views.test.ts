/** queueRows(), historyRows(): what `shoal queue`, `job history` and `job inspect` show, on a simulated cluster running real passes. */
import { historyRows, queueRows } from '../../src/agent/job-views.js';
import { isJobEnded } from '../../src/state/jobs.js';
import { BatchSim, stackOf } from '../controllers/batch/sim.js';

const longRuns = () => ({ ms: 3_600_000, exitCode: 0 });

function rowOf(sim: BatchSim, jobId: string) {
  const row = queueRows(sim.state, sim.now, { all: true }).find((r) => r.jobId === jobId);
  if (row === undefined) throw new Error(`no queue row for job ${jobId}`);
  return row;
}

describe('queueRows()', () => {
  it("queueRows() gives units held back by an array's %N the reason JobArrayTaskLimit, as Slurm does", () => {
    const sim = new BatchSim({ runner: longRuns });
    const id = sim.submit({ job: '{array: "0-9%2"}' });
    sim.runUntil(() => sim.liveTasksOf(id).filter((t) => t.state === 'running').length === 2, 10);
    sim.step();
    expect(rowOf(sim, id)).toMatchObject({
      state: 'RUNNING',
      units: { total: 10, running: 2, pending: 8, done: 0, failed: 0 },
      reason: 'JobArrayTaskLimit: at most 2 units of this array run at once (%2)',
    });
  });

  it('queueRows() shows a job with running units as RUNNING, counting units the way the job controller does', () => {
    const sim = new BatchSim({ runner: longRuns });
    const id = sim.submit({ job: '{array: "0-5"}', cpus: 0.5 });
    // One controller pass: the units are placed (assigned) before any node has reported.
    sim.pass();
    const row = rowOf(sim, id);
    expect(row.units.running).toBe(6);
    expect(row.state).toBe('RUNNING');
    expect(row.position).toBeNull();
    // The next pass writes what the view derived into the record.
    sim.pass();
    expect(sim.job(id).state).toBe('RUNNING');
  });

  it('queueRows() counts no pending unit in a cancelled job', () => {
    const sim = new BatchSim({ runner: longRuns });
    const id = sim.submit({ job: '{array: "0-3%1"}' });
    sim.step();
    sim.apply({ type: 'job.cancel', jobIds: [id], reason: 'cancelled by the user' });
    sim.runUntil(() => sim.liveTasksOf(id).length === 0, 10);
    expect(rowOf(sim, id)).toMatchObject({ state: 'CANCELLED', units: { total: 4, running: 0, pending: 0 } });
  });

  it('queueRows() says why a Compose job no node could ever hold waits, naming the largest node', () => {
    const sim = new BatchSim({ runner: longRuns });
    sim.deploy(
      stackOf(
        'services:\n  huge:\n    image: i\n    deploy: {resources: {reservations: {cpus: "1000"}}}\n    x-shoal: {kind: job}\n',
        'big',
      ),
    );
    sim.step();
    sim.step();
    const [row] = queueRows(sim.state, sim.now);
    expect(row).toMatchObject({ state: 'PENDING', units: { total: 1, running: 0, pending: 1 } });
    expect(row!.reason).toMatch(
      /^Resources: never fits: one unit needs 1000 CPUs, 0 B memory; the largest node, .+, has 4 CPUs, 16 GiB memory \(not enough cpu\)$/,
    );
  });
});

describe('queueRows() of ended jobs', () => {
  it('queueRows() gives an ended job its end time, so TIME stops at the end (squeue)', () => {
    const sim = new BatchSim({ runner: () => ({ ms: 5000, exitCode: 0 }) });
    const id = sim.submit();
    sim.runUntil(() => isJobEnded(sim.job(id).state), 30);
    const job = sim.job(id);
    sim.step(60_000);
    expect(job.endedAt).not.toBeNull();
    expect(rowOf(sim, id)).toMatchObject({ state: 'COMPLETED', startedAt: job.startedAt, endedAt: job.endedAt });
  });

  it('queueRows() has no end time for a running job', () => {
    const sim = new BatchSim({ runner: longRuns });
    const id = sim.submit();
    sim.runUntil(() => sim.job(id).state === 'RUNNING', 10);
    expect(rowOf(sim, id)).toMatchObject({ state: 'RUNNING', endedAt: null });
  });
});

describe('historyRows()', () => {
  it('historyRows() limits the rows, not the jobs, with or without a job id (sacct -n)', () => {
    const sim = new BatchSim({ runner: () => ({ ms: 1000, exitCode: 0 }) });
    const ids = [sim.submit(), sim.submit(), sim.submit({ job: '{array: "0-3"}' })];
    sim.runUntil(() => ids.every((id) => isJobEnded(sim.job(id).state)), 50);
    expect(historyRows(sim.state)).toHaveLength(2 + 2 + 5);
    expect(historyRows(sim.state, { limit: 3 }).map((r) => r.id)).toEqual([ids[2], `${ids[2]}_0`, `${ids[2]}_1`]);
    expect(historyRows(sim.state, { jobId: ids[2], limit: 2 }).map((r) => r.id)).toEqual([ids[2], `${ids[2]}_0`]);
  });

  it('historyRows() says OUT_OF_MEMORY, with the exit code, for a job whose unit was killed for memory though it exited 0', () => {
    const sim = new BatchSim({ runner: () => ({ ms: 1000, exitCode: 0, oomKilled: true }) });
    const id = sim.submit();
    sim.runUntil(() => isJobEnded(sim.job(id).state), 30);
    const [job, run] = historyRows(sim.state, { jobId: id });
    expect(job).toMatchObject({ id, state: 'OUT_OF_MEMORY', exitCode: 0 });
    expect(run).toMatchObject({ id: `${id}.0`, state: 'OUT_OF_MEMORY', exitCode: 0 });
    expect(rowOf(sim, id).state).toBe('OUT_OF_MEMORY');
  });

  it('historyRows() keeps FAILED for a job whose memory-killed run was retried and then failed otherwise', () => {
    let runs = 0;
    const sim = new BatchSim({
      runner: () => (runs++ === 0 ? { ms: 1000, exitCode: 0, oomKilled: true } : { ms: 1000, exitCode: 3 }),
    });
    const id = sim.submit({ job: '{retries: 1}' });
    sim.runUntil(() => isJobEnded(sim.job(id).state), 60);
    expect(historyRows(sim.state, { jobId: id }).map((r) => [r.id, r.state, r.exitCode])).toEqual([
      [id, 'FAILED', 3],
      [`${id}.0`, 'OUT_OF_MEMORY', 0],
      [`${id}.1`, 'FAILED', 3],
    ]);
  });

  it('historyRows() shows an unmeasured peak memory (0 from the runtime) as null, not 0 bytes', () => {
    const sim = new BatchSim({ runner: () => ({ ms: 1000, exitCode: 0, peakMemoryBytes: 0 }) });
    const id = sim.submit();
    sim.runUntil(() => isJobEnded(sim.job(id).state), 30);
    const rows = historyRows(sim.state, { jobId: id });
    expect(rows.map((r) => r.peakMemoryBytes)).toEqual([null, null]);
    expect(rows.every((r) => r.cpuMs !== null)).toBe(true);
  });
});
