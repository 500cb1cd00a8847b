/**
 * `shoal job submit`: queue a batch job, like Slurm's `sbatch`/`srun` (the flags Slurm users
 * know: `-c`, `--mem`, `-t`, `-a`, `-d`, `-A`, `-D`, `--parsable`). Exactly one HTTP request.
 * @module
 */
import { userInfo } from 'node:os';
import type { JobSubmitRequest, JobSubmitResult } from '../../api/job-types.js';
import { outputOption, type CommandSpec, type OptionSpec } from '../command.js';
import { ExitCode, UsageError } from '../errors.js';
import { toJson } from '../format.js';
import {
  parseArray,
  parseBegin,
  parseCount,
  parseCpus,
  parseDependency,
  parseEnv,
  parseMemory,
  parseNamespace,
  parseTimeLimit,
  MAX_TIME_LIMIT_DAYS,
} from './job-flags.js';

/** What the submit flags are read against: where the CLI runs and who runs it. */
export interface SubmitEnvironment {
  /** The working directory the process runtime defaults to. */
  readonly cwd: string;
  /** The job's owner. */
  readonly user: string;
  /** ms since epoch, for `--begin now+10m`. */
  readonly now: number;
}

type Values = Readonly<Record<string, string | boolean | readonly string[] | undefined>>;

/** The one of two spellings of a flag that was given (`--name`/`--job-name`), refusing both. */
function either(values: Values, a: string, b: string): string | undefined {
  const first = values[a] as string | undefined;
  const second = values[b] as string | undefined;
  if (first !== undefined && second !== undefined && first !== second) {
    throw new UsageError(`--${a} and --${b} are the same flag; give one`);
  }
  return first ?? second;
}

/**
 * The request `shoal job submit` sends, from its parsed flags and the command after `--`.
 * Every flag is checked here; the agent then checks the whole job.
 * @example buildSubmitRequest({ cpus: '2', time: '1:30:00' }, ['./train.sh'], { cwd: '/home/ana', user: 'ana', now: 0 })
 * // { owner: 'ana', command: ['./train.sh'], runtime: 'process', workingDir: '/home/ana', cpus: 2, time: '5400s' }
 */
export function buildSubmitRequest(
  values: Values,
  command: readonly string[],
  where: SubmitEnvironment,
): JobSubmitRequest {
  if (command.length === 0 || command[0] === '') {
    throw new UsageError('no command to run: put it after `--`, e.g. shoal job submit -c 2 -- python train.py');
  }
  const image = values.image as string | undefined;
  const runtime = values.runtime as string | undefined;
  if (runtime !== undefined && runtime !== 'process' && runtime !== 'docker') {
    throw new UsageError(`--runtime ${JSON.stringify(runtime)}: expected process or docker`);
  }
  if (image !== undefined && runtime === 'process') {
    throw new UsageError('--image runs the job in a container: leave out --runtime process (or --image)');
  }
  if (image === undefined && runtime === 'docker') throw new UsageError('--runtime docker needs --image IMAGE');
  const kind = image === undefined ? 'process' : 'docker';
  const name = either(values, 'name', 'job-name');
  const namespace = either(values, 'namespace', 'account');
  const chdir = values.chdir as string | undefined;
  const str = (flag: string) => values[flag] as string | undefined;
  const request: Mutable<JobSubmitRequest> = { owner: where.user, runtime: kind, command: [...command] };
  const set = <K extends keyof JobSubmitRequest>(key: K, value: JobSubmitRequest[K] | undefined): void => {
    if (value !== undefined) request[key] = value;
  };
  const parsed = <T>(flag: string, parse: (text: string) => T): T | undefined => {
    const text = str(flag);
    return text === undefined ? undefined : parse(text);
  };
  set('name', name);
  set('namespace', namespace === undefined ? undefined : parseNamespace(namespace));
  set(
    'priority',
    parsed('priority', (t) => parseCount(t, '--priority', 0, 1000)),
  );
  set('image', image);
  set('env', values.env === undefined ? undefined : parseEnv(values.env as readonly string[]));
  // The process runtime runs where the user stands, as sbatch does; a container in its image's dir.
  set('workingDir', chdir ?? (kind === 'process' ? where.cwd : undefined));
  set(
    'cpus',
    parsed('cpus', (t) => parseCpus(t, '--cpus', { positive: true })),
  );
  set('memory', parsed('mem', parseMemory));
  set(
    'gpus',
    parsed('gpus', (t) => parseCount(t, '--gpus', 0, 1024)),
  );
  set('time', parsed('time', parseTimeLimit));
  set('array', parsed('array', parseArray));
  set('dependency', parsed('dependency', parseDependency));
  set(
    'beginAt',
    parsed('begin', (t) => parseBegin(t, where.now)),
  );
  set(
    'retries',
    parsed('retries', (t) => parseCount(t, '--retries', 0, 1000)),
  );
  set('gang', values.gang === true ? true : undefined);
  set('requeue', values['no-requeue'] === true ? false : undefined);
  return request;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Who runs the CLI: the account's name, else `$USER`/`$LOGNAME` (a container without a passwd
 * entry for its uid).
 */
export function currentUser(env: Readonly<Record<string, string | undefined>>): string {
  try {
    const name = userInfo().username;
    if (name) return name;
  } catch {
    // no passwd entry: fall back to the environment
  }
  const name = env.USER || env.LOGNAME;
  if (!name) throw new UsageError('cannot tell who you are (no user name, no $USER): set USER=NAME');
  return name;
}

const value = (placeholder: string, description: string, short?: string): OptionSpec => ({
  type: 'string',
  value: placeholder,
  description,
  ...(short ? { short } : {}),
});

/** The flags of `shoal job submit`. */
export const SUBMIT_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  name: value('NAME', 'job name (default: the base name of the command)', 'J'),
  'job-name': value('NAME', 'same as --name (Slurm spelling)'),
  cpus: value('N', 'CPUs to reserve per unit, fractions allowed (default 1)', 'c'),
  mem: value('SIZE', 'memory to reserve and cap per unit: 512M, 4G (a bare number is MiB, as in Slurm)'),
  gpus: value('N', 'GPUs per unit'),
  time: value(
    'LIMIT',
    `wall-clock limit per unit: MM, MM:SS, HH:MM:SS, D-HH[:MM[:SS]] (Slurm) or 90s, 1h30m; at most ${MAX_TIME_LIMIT_DAYS} days, or UNLIMITED`,
    't',
  ),
  array: value('SPEC', 'a job array: 0-99, 1,3,5-7, 0-15:4, with %N to run at most N at once (0-99%10)', 'a'),
  dependency: value('DEPS', 'start after other jobs: afterok:12[:13], afterany:9, afternotok:4, comma-separated', 'd'),
  priority: value('N', 'priority 0-1000 (default 100)'),
  namespace: value('NS', 'fair-share and quota namespace (default: default)'),
  account: value('NS', 'same as --namespace (Slurm spelling)', 'A'),
  image: value('IMAGE', 'run in a container of this image (Docker runtime)'),
  runtime: value('RUNTIME', 'process (default without --image: runs on the host) or docker'),
  env: { ...value('K=V', 'set an environment variable (repeatable)'), multiple: true },
  chdir: value('DIR', 'working directory (default: the current directory for the process runtime)', 'D'),
  begin: value('TIME', 'not before: now+10m, now+1h, 2024-05-01T22:00:00Z, 22:00'),
  retries: value('N', 'run a failed unit again up to N times'),
  gang: { type: 'boolean', description: 'start all units at once or none (MPI, distributed training)' },
  'no-requeue': { type: 'boolean', description: 'do not run a unit again elsewhere when its node fails' },
  parsable: { type: 'boolean', description: 'print only the job id (as sbatch --parsable)' },
  quiet: { type: 'boolean', short: 'q', description: 'same as --parsable' },
  output: outputOption(['table', 'json']),
};

/** `shoal job submit`. */
export const jobSubmitCommand: CommandSpec = {
  words: ['job', 'submit'],
  argsUsage: '-- <command> [args...]',
  summary: 'Queue a batch job (like sbatch)',
  description:
    'The command runs as you (the owner is your user name), in the current directory unless --chdir or\n' +
    '--image is given. Put the command after `--` so its own flags are not read as shoal flags.\n' +
    'The job waits in the queue (see `shoal queue`) by priority, fair share and age.',
  options: SUBMIT_OPTIONS,
  outputs: ['table', 'json'],
  remote: true,
  fastStart: true,
  examples: [
    'shoal job submit -- ./run.sh',
    'shoal job submit -c 4 --mem 8G -t 2:00:00 --name train -- python train.py --epochs 10',
    'shoal job submit -a 0-99%10 -- ./process-shard.sh',
    'JOB=$(shoal job submit --parsable -- ./prepare.sh) && shoal job submit -d afterok:$JOB -- ./analyse.sh',
    'shoal job submit --image python:3.12 -A ml-team -- python -c "print(42)"',
  ],
  async run(context) {
    const request = buildSubmitRequest(context.options as Values, context.args, {
      cwd: process.cwd(),
      user: currentUser(context.env),
      now: context.now(),
    });
    const connection = context.connection();
    // Imported here so that loading the command table (for `version`, help) does not load node:net.
    const { canFastPost, fastPost } = await import('./fast-post.js');
    const result = canFastPost(connection)
      ? await fastPost<JobSubmitResult>(connection, '/v1/jobs', request)
      : await new (await import('../client.js')).ApiClient(connection).call<JobSubmitResult>('POST', '/v1/jobs', {
          body: request,
        });
    if (context.output === 'json') context.stdout.write(toJson(result));
    else if (context.options.parsable === true || context.options.quiet === true) {
      context.stdout.write(`${result.jobId}\n`);
    } else context.stdout.write(`Submitted batch job ${result.jobId}\n`);
    return ExitCode.ok;
  },
};
