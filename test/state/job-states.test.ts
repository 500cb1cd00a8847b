/**
 * Job states in the replicated record: OUT_OF_MEMORY is one of them (Slurm's sacct state of a job
 * killed for memory), an end like the others, accepted in a job.update and in a snapshot.
 */
import {
  ClusterStateMachine,
  decodeState,
  validateCommand,
  type Command,
  type CommandInput,
} from '../../src/state/index.js';
import { JOB_STATES, isJobEnded } from '../../src/state/jobs.js';
import { jobSubmit } from '../controllers/batch/sim.js';
import { T0, entries, init, register } from './helpers.js';

function applyNext(machine: ClusterStateMachine, command: CommandInput, at: number): void {
  const result = machine.apply(entries([{ v: 1, ...command, at } as Command], machine.appliedIndex + 1)[0]!);
  expect(result.ok).toBe(true);
}

/** A machine with one submitted job, id "1". */
function submitted(): ClusterStateMachine {
  const machine = new ClusterStateMachine();
  for (const entry of entries([init(), register(1)])) expect(machine.apply(entry).ok).toBe(true);
  applyNext(machine, jobSubmit(), T0 + 20);
  return machine;
}

const update = (state: string, exitCode: number | null): CommandInput =>
  ({
    type: 'job.update',
    updates: [{ jobId: '1', state, reason: '1 of 1 unit(s) failed', exitCode, succeeded: 0, failed: 1 }],
  }) as unknown as CommandInput;

describe('job states', () => {
  it('isJobEnded() takes OUT_OF_MEMORY for an end, as every state but PENDING and RUNNING', () => {
    expect(JOB_STATES).toContain('OUT_OF_MEMORY');
    expect(JOB_STATES.filter((s) => !isJobEnded(s))).toEqual(['PENDING', 'RUNNING']);
  });

  it('validateCommand() accepts a job.update to OUT_OF_MEMORY', () => {
    const command = { v: 1, at: T0, ...update('OUT_OF_MEMORY', 0) } as Command;
    expect(validateCommand(command)).toEqual(command);
  });

  it('apply() records OUT_OF_MEMORY once: a later update of the ended job changes nothing', () => {
    const machine = submitted();
    applyNext(machine, update('RUNNING', null), T0 + 30);
    applyNext(machine, update('OUT_OF_MEMORY', 0), T0 + 40);
    const ended = machine.state().jobs['1']!;
    expect(ended).toMatchObject({ state: 'OUT_OF_MEMORY', exitCode: 0, endedAt: T0 + 40 });
    applyNext(machine, update('RUNNING', null), T0 + 50);
    expect(machine.state().jobs['1']).toEqual(ended);
  });

  it('decodeState() restores a job that ended OUT_OF_MEMORY', () => {
    const machine = submitted();
    applyNext(machine, update('OUT_OF_MEMORY', 137), T0 + 40);
    const { state } = decodeState(machine.snapshot(), machine.appliedIndex);
    expect(state.jobs['1']!.state).toBe('OUT_OF_MEMORY');
    expect(state).toEqual(machine.state());
  });
});
