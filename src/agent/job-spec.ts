/**
 * From `shoal job submit` flags to a job's service spec. The request is turned into a one-service
 * Compose document and run through the Compose parser, so a submitted job is validated and
 * defaulted exactly like a `kind: job` service in a stack; errors name the flag, not the
 * Compose path.
 * @module
 */
import { ApiError } from '../api/types.js';
import { reservationsOf } from '../controllers/placement.js';
import { neverFits } from '../scheduler/queue/capacity.js';
import type { NodeView } from '../scheduler/types.js';
import type { JobSubmitRequest } from '../api/job-types.js';
import { formatStackError, hashService, parseStack } from '../stack/index.js';
import type { ServiceSpec } from '../stack/spec.js';
import type { JobDependency } from '../state/jobs.js';

/** Compose paths of the generated document → the flag a person typed. */
const FLAG_OF: readonly [string, string][] = [
  ['x-shoal.job.time_limit', '--time'],
  ['x-shoal.job.array', '--array'],
  ['x-shoal.job.retries', '--retries'],
  ['x-shoal.priority', '--priority'],
  ['x-shoal.namespace', '--namespace'],
  ['x-shoal.owner', 'owner'],
  ['deploy.resources.reservations.cpus', '--cpus'],
  ['deploy.resources.reservations.memory', '--mem'],
  ['deploy.resources.limits.memory', '--mem'],
  ['deploy.resources.reservations.devices', '--gpus'],
  ['working_dir', '--chdir'],
  ['environment', '--env'],
  ['image', '--image'],
  ['command', 'the command'],
];

export interface BuiltJob {
  readonly name: string;
  readonly namespace: string;
  readonly priority: number;
  readonly spec: ServiceSpec;
  readonly specHash: string;
  readonly dependencies: JobDependency[];
}

/**
 * Build and validate a submitted job.
 * @throws {ApiError} 400 listing every problem, each named by its flag.
 */
export function buildSubmittedJob(request: JobSubmitRequest): BuiltJob {
  if (request.command.length === 0)
    throw new ApiError(400, 'bad_request', 'job submit: no command given: put it after `--`, e.g. -- ./run.sh');
  const runtime = request.runtime ?? (request.image ? 'docker' : 'process');
  if (runtime === 'process' && request.image)
    throw new ApiError(400, 'bad_request', 'job submit: --image runs a container: leave out --runtime process');
  if (runtime === 'docker' && !request.image)
    throw new ApiError(400, 'bad_request', 'job submit: the docker runtime needs --image');
  if (request.cpus !== undefined && !(request.cpus > 0))
    throw new ApiError(
      400,
      'bad_request',
      `job submit: --cpus ${String(request.cpus)}: a unit reserves more than 0 CPUs; ask for 1, 4 or 0.5`,
    );
  const name = request.name ?? defaultName(request.command[0]!);
  const job: Record<string, unknown> = { requeue: request.requeue ?? true };
  if (request.time !== undefined) job.time_limit = request.time;
  if (request.array !== undefined) job.array = request.array;
  if (request.retries !== undefined) job.retries = request.retries;
  const shoal: Record<string, unknown> = { kind: 'job', runtime, owner: request.owner, job };
  if (request.priority !== undefined) shoal.priority = request.priority;
  if (request.namespace !== undefined) shoal.namespace = request.namespace;
  if (request.gang) shoal.gang = true;
  const reservations: Record<string, unknown> = { cpus: String(request.cpus ?? 1) };
  const limits: Record<string, unknown> = {};
  if (request.memory !== undefined) reservations.memory = limits.memory = request.memory;
  if (request.gpus) reservations.devices = [{ capabilities: ['gpu'], count: request.gpus }];
  const service: Record<string, unknown> = {
    command: request.command.map(literal),
    deploy: { resources: { reservations, ...(Object.keys(limits).length > 0 ? { limits } : {}) } },
    'x-shoal': shoal,
  };
  if (request.image) service.image = request.image;
  if (request.env && Object.keys(request.env).length > 0)
    service.environment = Object.fromEntries(Object.entries(request.env).map(([k, v]) => [k, literal(v)]));
  if (request.workingDir) service.working_dir = literal(request.workingDir);

  const parsed = parseStack(JSON.stringify({ services: { job: service } }), { file: 'job', name: 'job', env: {} });
  if (!parsed.ok) {
    const errors = parsed.errors.map((e) => flagMessage(formatStackError(e)));
    throw new ApiError(
      400,
      'bad_request',
      `job submit: ${errors.length} error(s), nothing submitted:\n${errors.join('\n')}`,
    );
  }
  const spec = parsed.spec.services.job!;
  return {
    name,
    namespace: spec.scheduling.namespace,
    priority: spec.scheduling.priority,
    spec,
    specHash: hashService(spec),
    dependencies: parseDependency(request.dependency ?? ''),
  };
}

/**
 * Refuse a job one unit of which no node could ever hold, even empty, as Slurm does: it would wait
 * forever. A Compose job is not refused (nodes may join later); the queue's REASON says it instead.
 * @throws {ApiError} 400 naming what a unit needs and the largest node.
 */
export function checkUnitFits(spec: ServiceSpec, nodes: readonly NodeView[]): void {
  const never = neverFits(reservationsOf(spec), nodes);
  if (never === null) return;
  throw new ApiError(
    400,
    'bad_request',
    `job submit: Requested node configuration is not available: ${never}; ask for less (-c, --mem, --gpus), or add a node that big first`,
  );
}

/**
 * The command line is taken as typed: `$VAR` is for the job's shell at run time, not for the
 * Compose parser's interpolation, which reads `$$` as a literal `$`.
 */
function literal(text: string): string {
  return text.replaceAll('$', '$$$$');
}

/** `./bin/train.py` → `train.py`, made a valid job name. */
function defaultName(command: string): string {
  const base = command.split('/').pop() || 'job';
  const clean = base.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[^A-Za-z0-9]+/, '');
  return (clean || 'job').slice(0, 63);
}

function flagMessage(message: string): string {
  // "job services.job.x-shoal.job.array: ..." → "--array: ..."
  const m = /services\.job\.([^:]+): (.*)$/s.exec(message);
  if (!m) return message;
  const [, path, detail] = m;
  const flag = FLAG_OF.find(([p]) => path === p || path!.startsWith(`${p}.`) || path!.startsWith(`${p}[`))?.[1];
  return `${flag ?? path}: ${detail}`;
}

/**
 * Slurm's `--dependency` list: `afterok:12:13,afterany:9` (also `?`-separated in Slurm: not supported).
 * @throws {ApiError} 400 naming the bad part.
 */
export function parseDependency(text: string): JobDependency[] {
  const out: JobDependency[] = [];
  if (text.trim() === '') return out;
  for (const part of text.split(',')) {
    const [type, ...ids] = part.trim().split(':');
    if (type !== 'afterok' && type !== 'afterany' && type !== 'afternotok')
      throw new ApiError(
        400,
        'bad_request',
        `--dependency: unknown type "${type}" in "${part}": use afterok, afterany or afternotok, e.g. afterok:12`,
      );
    if (ids.length === 0 || ids.some((id) => !/^[1-9][0-9]{0,15}$/.test(id)))
      throw new ApiError(
        400,
        'bad_request',
        `--dependency: expected job ids after "${type}:" in "${part}", e.g. ${type}:12:13`,
      );
    for (const jobId of ids) if (!out.some((d) => d.type === type && d.jobId === jobId)) out.push({ type, jobId });
  }
  return out;
}
