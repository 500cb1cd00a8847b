/** queueRows(): what `shoal queue` and `job inspect` show, on a simulated cluster running real passes. */
import { queueRows } from '../../src/agent/job-views.js';
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
