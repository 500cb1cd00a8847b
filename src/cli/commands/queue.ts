/**
 * `shoal queue`: the pending and running jobs in queue order, like Slurm's `squeue`.
 * @module
 */
import type { QueueRow } from '../../api/job-types.js';
import { STALE_OPTION, outputOption, type CommandSpec } from '../command.js';
import { ExitCode } from '../errors.js';
import { renderTable, slurmDuration, toJson } from '../format.js';
import { currentUser } from './job-submit.js';

/** `--user`/`-u`, shared by the queue and history. */
export const USER_OPTION = {
  type: 'string',
  short: 'u',
  value: 'NAME',
  description: "only this user's jobs",
} as const;

/** The STATE cell: the agent's state in capitals, as Slurm spells them (PENDING, RUNNING). */
export function stateCell(state: string): string {
  return state.toUpperCase();
}

/**
 * The UNITS cell: done/total, then how many run, wait and failed, leaving out zeros.
 * @example unitsCell({ total: 10, running: 2, pending: 5, done: 3, failed: 0 }) // "3/10 (2 run, 5 pend)"
 */
export function unitsCell(units: QueueRow['units']): string {
  const parts = [
    units.running > 0 ? `${units.running} run` : '',
    units.pending > 0 ? `${units.pending} pend` : '',
    units.failed > 0 ? `${units.failed} fail` : '',
  ].filter((part) => part !== '');
  return parts.length === 0 ? `${units.done}/${units.total}` : `${units.done}/${units.total} (${parts.join(', ')})`;
}

/**
 * The human table of the queue, squeue's columns: TIME is how long the job has run (0:00 while
 * pending, its run time up to its end once it ended), UNITS is done/total units with the running, pending and failed ones, REASON why
 * pending work waits.
 */
export function renderQueue(rows: readonly QueueRow[], now: number): string {
  const cells = rows.map((row) => [
    row.display,
    row.name,
    row.owner,
    row.namespace,
    stateCell(row.state),
    slurmDuration(row.startedAt === null ? 0 : (row.endedAt ?? now) - row.startedAt),
    unitsCell(row.units),
    row.nodes.join(',') || '-',
    row.reason || '-',
  ]);
  return renderTable(['JOBID', 'NAME', 'OWNER', 'NS', 'STATE', 'TIME', 'UNITS', 'NODES', 'REASON'], cells);
}

/** `shoal queue`. */
export const queueCommand: CommandSpec = {
  words: ['queue'],
  summary: 'List pending and running jobs in queue order (like squeue)',
  description:
    'TIME is how long a job has been running (D-HH:MM:SS); UNITS is done/total units (array indexes),\n' +
    'then how many run, are pending and failed: 3/10 (2 run, 5 pend).\n' +
    'REASON says why pending work waits: Priority, Resources, Dependency, Quota, BeginTime, Gang,\n' +
    'JobArrayTaskLimit (an array at its %N), ...\n' +
    "Everyone's jobs are listed, as squeue does; --me or -u NAME keeps one user's.",
  options: {
    all: { type: 'boolean', short: 'a', description: 'also jobs that ended recently' },
    user: USER_OPTION,
    me: { type: 'boolean', description: 'only your jobs (same as -u $USER)' },
    output: outputOption(['table', 'json']),
    quiet: { type: 'boolean', short: 'q', description: 'print only job ids, one per line' },
    stale: STALE_OPTION,
  },
  outputs: ['table', 'json'],
  maxArgs: 0,
  remote: true,
  examples: [
    'shoal queue',
    'shoal queue --me',
    'shoal queue -u ana',
    'shoal queue -o json | jq -r \'.[] | select(.reason == "Dependency") | .jobId\'',
  ],
  async run(context) {
    const user =
      (context.options.user as string | undefined) ??
      (context.options.me === true ? currentUser(context.env) : undefined);
    const rows = await context.client().call<QueueRow[]>('GET', '/v1/queue', {
      query: {
        all: context.options.all === true,
        owner: user,
        stale: context.options.stale === true,
      },
    });
    if (context.output === 'json') context.stdout.write(toJson(rows));
    else if (context.options.quiet === true) context.stdout.write(rows.map((row) => `${row.jobId}\n`).join(''));
    else context.stdout.write(renderQueue(rows, context.now()));
    return ExitCode.ok;
  },
};
