/**
 * `shoal job history`: jobs and the runs of their units, like Slurm's `sacct`.
 * @module
 */
import type { HistoryRow } from '../../api/job-types.js';
import { STALE_OPTION, outputOption, type CommandSpec } from '../command.js';
import { ExitCode, UsageError } from '../errors.js';
import { formatBytes, orDash, renderTable, sacctDuration, slurmTime, toJson } from '../format.js';
import { JOB_ID_PATTERN, parseCount } from './job-flags.js';
import { USER_OPTION, stateCell } from './queue.js';

/** Check a job id argument (`17`, `17_3`) before it goes in a path or query. */
export function checkJobId(text: string): string {
  if (!JOB_ID_PATTERN.test(text)) {
    throw new UsageError(`"${text}" is not a job id: expected a number such as 17 (or 17_3 for one array index)`);
  }
  return text;
}

/** ELAPSED: end - start, or up to now while running; `00:00:00` before the start. */
function elapsed(row: HistoryRow, now: number): string {
  return sacctDuration(row.startedAt === null ? 0 : (row.endedAt ?? now) - row.startedAt);
}

/**
 * The human table of history rows, sacct's columns: START/END as local times, ELAPSED and CPUTIME
 * as `[D-]HH:MM:SS`, MAXRSS as a binary size; `-` where a value was not measured.
 */
export function renderHistory(rows: readonly HistoryRow[], now: number): string {
  const cells = rows.map((row) => [
    row.id,
    row.name,
    stateCell(row.state),
    row.startedAt === null ? 'Unknown' : slurmTime(row.startedAt),
    row.endedAt === null ? (row.startedAt === null ? 'Unknown' : 'Running') : slurmTime(row.endedAt),
    elapsed(row, now),
    orDash(row.node),
    orDash(row.exitCode),
    row.cpuMs === null ? '-' : sacctDuration(row.cpuMs),
    row.peakMemoryBytes === null ? '-' : formatBytes(row.peakMemoryBytes),
  ]);
  return renderTable(
    ['JOBID', 'NAME', 'STATE', 'START', 'END', 'ELAPSED', 'NODE', 'EXITCODE', 'CPUTIME', 'MAXRSS'],
    cells,
  );
}

/** `shoal job history`. */
export const jobHistoryCommand: CommandSpec = {
  words: ['job', 'history'],
  argsUsage: '[JOBID]',
  summary: 'List finished and running jobs and the runs of their units (like sacct)',
  description:
    'A row is a job (17), an array unit (17_3) or one run of a unit (17_3.1, a retry or requeue).\n' +
    'START and END are local times; ELAPSED and CPUTIME are [D-]HH:MM:SS; MAXRSS is the peak memory (- when not measured).',
  options: {
    user: USER_OPTION,
    limit: { type: 'string', short: 'n', value: 'N', description: 'at most N rows (the newest)' },
    output: outputOption(['table', 'json']),
    stale: STALE_OPTION,
  },
  outputs: ['table', 'json'],
  maxArgs: 1,
  remote: true,
  examples: [
    'shoal job history',
    'shoal job history 17',
    'shoal job history -u ana --limit 50',
    "shoal job history 17 -o json | jq '.[] | select(.exitCode != 0)'",
  ],
  async run(context) {
    const job = context.args[0] === undefined ? undefined : checkJobId(context.args[0]);
    const text = context.options.limit as string | undefined;
    const limit = text === undefined ? undefined : parseCount(text, '--limit', 1, 100_000);
    const answer = await context.client().call<HistoryRow[]>('GET', '/v1/jobs/history', {
      query: {
        job,
        owner: context.options.user as string | undefined,
        limit: limit === undefined ? undefined : String(limit),
        stale: context.options.stale === true,
      },
    });
    // Older agents capped jobs, not rows: cap here too so -n counts rows with any agent.
    const rows = limit === undefined ? answer : answer.slice(0, limit);
    if (context.output === 'json') context.stdout.write(toJson(rows));
    else context.stdout.write(renderHistory(rows, context.now()));
    return ExitCode.ok;
  },
};
