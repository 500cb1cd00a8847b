/**
 * `shoal job cancel|inspect|logs`: one job at a time, like Slurm's `scancel`, `scontrol show job`
 * and reading a job's output file. (`job submit` is in job-submit.ts, `job history` in
 * job-history.ts.)
 * @module
 */
import type { JobInspectView } from '../../api/job-types.js';
import type { LogLine } from '../../api/types.js';
import { STALE_OPTION, outputOption, type CommandSpec } from '../command.js';
import { ExitCode } from '../errors.js';
import { orDash, renderFields, sacctDuration, shortId, slurmTime, toJson } from '../format.js';
import { checkJobId, renderHistory } from './job-history.js';
import { parseCount } from './job-flags.js';
import { stateCell } from './queue.js';

/** The path of one job. */
export function jobPath(jobId: string, suffix = ''): string {
  return `/v1/jobs/${encodeURIComponent(jobId)}${suffix}`;
}

/** `shoal job cancel`. */
export const jobCancelCommand: CommandSpec = {
  words: ['job', 'cancel'],
  aliases: ['rm'],
  argsUsage: '<jobid>...',
  summary: 'Cancel jobs (like scancel): pending units are dropped, running ones stopped',
  description:
    'A job is named by its id (17), or one array index by 17_3. Every id is checked first; an id the\n' +
    'agent does not know, or a job that has already ended, is reported and the command exits 4.',
  options: {
    output: outputOption(['table', 'json']),
    quiet: { type: 'boolean', short: 'q', description: 'print nothing on success' },
  },
  outputs: ['table', 'json'],
  minArgs: 1,
  remote: true,
  examples: ['shoal job cancel 17', 'shoal job cancel 17 18 19_4', 'shoal queue -u ana -q | xargs shoal job cancel'],
  async run(context) {
    const jobIds = [...new Set(context.args.map(checkJobId))];
    const result = await context
      .client()
      .call<{ cancelled: string[] }>('POST', '/v1/jobs/cancel', { body: { jobIds } });
    if (context.output === 'json') context.stdout.write(toJson(result));
    else if (context.options.quiet !== true) context.stdout.write(result.cancelled.map((id) => `${id}\n`).join(''));
    const cancelled = new Set(result.cancelled);
    const missed = jobIds.filter((id) => !cancelled.has(id));
    for (const id of missed) {
      context.stderr.write(
        `shoal: job ${id} was not cancelled: no such job, or it has already ended (see \`shoal job history ${id}\`)\n`,
      );
    }
    return missed.length === 0 ? ExitCode.ok : ExitCode.notFound;
  },
};

/** The readable summary of `shoal job inspect`: scontrol-like fields, then the runs table. */
export function renderInspect(view: JobInspectView, now: number): string {
  const job = view.job;
  const { total, running, pending, done, failed } = job.units;
  const fields: [string, string][] = [
    ['JobId', job.display],
    ['Name', job.name],
    ['Owner', job.owner],
    ['Namespace', job.namespace],
    ['State', stateCell(job.state)],
    ['Reason', orDash(job.reason)],
    ['Priority', String(job.priority)],
    ['Position', orDash(job.position)],
    ['Units', `${total} total, ${running} running, ${pending} pending, ${done} done, ${failed} failed`],
    ['Nodes', job.nodes.join(',') || '-'],
    ['Submitted', slurmTime(job.submittedAt)],
    ['Started', slurmTime(job.startedAt)],
    ['Ended', slurmTime(job.endedAt)],
    ['Elapsed', sacctDuration(job.startedAt === null ? 0 : (job.endedAt ?? now) - job.startedAt)],
    ['ExitCode', orDash(job.exitCode)],
  ];
  const runs = view.runs.length === 0 ? '' : `\n${renderHistory(view.runs, now)}`;
  return renderFields(fields) + runs;
}

/** `shoal job inspect`. */
export const jobInspectCommand: CommandSpec = {
  words: ['job', 'inspect'],
  aliases: ['show'],
  argsUsage: '<jobid>',
  summary: 'Show one job: its state, units, runs and spec',
  description:
    'The table output is a summary and the runs of its units; -o json prints the whole record with the spec.',
  options: { output: outputOption(['table', 'json']), stale: STALE_OPTION },
  outputs: ['table', 'json'],
  minArgs: 1,
  maxArgs: 1,
  remote: true,
  examples: ['shoal job inspect 17', "shoal job inspect 17 -o json | jq '.spec'"],
  async run(context) {
    const view = await context.client().call<JobInspectView>('GET', jobPath(checkJobId(context.args[0]!)), {
      query: { stale: context.options.stale === true },
    });
    context.stdout.write(context.output === 'json' ? toJson(view) : renderInspect(view, context.now()));
    return ExitCode.ok;
  },
};

/** One log line as `shoal job logs` prints it. */
export function formatJobLogLine(line: LogLine, options: { prefix: boolean; timestamps: boolean }): string {
  const prefix = options.prefix ? `${line.taskName}@${shortId(line.nodeId)} | ` : '';
  const time = options.timestamps ? `${new Date(line.time).toISOString()} ` : '';
  return `${prefix}${time}${line.line}\n`;
}

/** `shoal job logs`. */
export const jobLogsCommand: CommandSpec = {
  words: ['job', 'logs'],
  argsUsage: '<jobid>',
  summary: "Print the output of a job's units",
  description:
    'Lines are printed as the job wrote them: stdout to stdout, stderr to stderr. For an array, --index picks\n' +
    'one unit (or name it as 17_3); --prefix shows which unit wrote each line. With -f the command keeps\n' +
    'printing new lines until the job ends or it is interrupted. -o json prints NDJSON, as the API sends it.',
  options: {
    follow: { type: 'boolean', short: 'f', description: 'keep printing new lines as they come' },
    index: { type: 'string', short: 'i', value: 'N', description: 'only this array index' },
    tail: { type: 'string', short: 'n', value: 'N', description: 'only the last N lines of each unit' },
    prefix: { type: 'boolean', short: 'p', description: 'prefix each line with unit@node |' },
    timestamps: { type: 'boolean', short: 't', description: 'show the time of each line' },
    output: outputOption(['table', 'json']),
  },
  outputs: ['table', 'json'],
  minArgs: 1,
  maxArgs: 1,
  remote: true,
  examples: [
    'shoal job logs 17',
    'shoal job logs -f 17',
    'shoal job logs --index 3 --tail 20 17',
    'shoal job logs -p 17',
  ],
  async run(context) {
    const [jobId, unit] = checkJobId(context.args[0]!).split('_') as [string, string | undefined];
    const indexFlag = context.options.index as string | undefined;
    const index = indexFlag === undefined ? unit : String(parseCount(indexFlag, '--index', 0, 99_999_999));
    const tail = context.options.tail as string | undefined;
    const json = context.output === 'json';
    const style = { prefix: context.options.prefix === true, timestamps: context.options.timestamps === true };
    await context.client().stream<LogLine>(
      'GET',
      jobPath(jobId, '/logs'),
      {
        query: {
          index,
          follow: context.options.follow === true,
          tail: tail === undefined ? undefined : String(parseCount(tail, '--tail', 0, 100_000_000)),
        },
      },
      (line) => {
        if (json) context.stdout.write(JSON.stringify(line) + '\n');
        else (line.stream === 'stderr' ? context.stderr : context.stdout).write(formatJobLogLine(line, style));
      },
    );
    return ExitCode.ok;
  },
};
