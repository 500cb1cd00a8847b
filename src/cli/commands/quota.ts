/**
 * `shoal quota ls|set|rm`: per-namespace limits on what running jobs may hold at once (Slurm's
 * account limits, GrpTRES), and each namespace's fair-share usage.
 * @module
 */
import type { QuotaSetRequest, QuotaView } from '../../api/job-types.js';
import { STALE_OPTION, outputOption, type CommandSpec } from '../command.js';
import { ExitCode, UsageError } from '../errors.js';
import { formatBytes, renderTable, toJson } from '../format.js';
import { parseCount, parseCpus, parseMemory, parseNamespace } from './job-flags.js';

/** `used/limit`, with `-` for no limit. */
function usedOf(used: string, limit: string | null): string {
  return `${used}/${limit ?? '-'}`;
}

/** A CPU count without float noise (`1.5`, not `1.4999999`). */
function cpus(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}

/** The human table of quotas: used/limit per resource, `-` where there is no limit. */
export function renderQuotas(quotas: readonly QuotaView[]): string {
  const rows = [...quotas]
    .sort((a, b) => a.namespace.localeCompare(b.namespace))
    .map((q) => [
      q.namespace,
      usedOf(cpus(q.used.cpus), q.cpus === null ? null : cpus(q.cpus)),
      usedOf(formatBytes(q.used.memoryBytes), q.memoryBytes === null ? null : formatBytes(q.memoryBytes)),
      usedOf(String(q.used.gpus), q.gpus === null ? null : String(q.gpus)),
      usedOf(String(q.used.runningJobs), q.runningJobs === null ? null : String(q.runningJobs)),
      String(Math.round(q.usage)),
    ]);
  return renderTable(['NAMESPACE', 'CPUS', 'MEMORY', 'GPUS', 'JOBS', 'USAGE'], rows);
}

/** `shoal quota ls`. */
export const quotaLsCommand: CommandSpec = {
  words: ['quota', 'ls'],
  aliases: ['list'],
  summary: 'List the namespaces with their quotas, what they use, and their fair-share usage',
  description:
    'Each resource column is used/limit ("-" means no limit). JOBS counts running jobs. USAGE is the\n' +
    'decayed CPU-seconds that fair share weighs: the higher, the later its pending jobs start.',
  options: { output: outputOption(['table', 'json']), stale: STALE_OPTION },
  outputs: ['table', 'json'],
  maxArgs: 0,
  remote: true,
  examples: ['shoal quota ls', "shoal quota ls -o json | jq '.[] | select(.used.cpus > 0)'"],
  async run(context) {
    const quotas = await context
      .client()
      .call<QuotaView[]>('GET', '/v1/quotas', { query: { stale: context.options.stale === true } });
    context.stdout.write(context.output === 'json' ? toJson(quotas) : renderQuotas(quotas));
    return ExitCode.ok;
  },
};

/** The body of `quota set` from its flags; at least one is required. */
export function buildQuotaRequest(values: Readonly<Record<string, unknown>>): QuotaSetRequest {
  const str = (flag: string) => values[flag] as string | undefined;
  const request: { -readonly [K in keyof QuotaSetRequest]: QuotaSetRequest[K] } = {};
  if (str('cpus') !== undefined) request.cpus = parseCpus(str('cpus')!);
  if (str('mem') !== undefined) request.memory = parseMemory(str('mem')!);
  if (str('gpus') !== undefined) request.gpus = parseCount(str('gpus')!, '--gpus', 0, 1_000_000);
  if (str('jobs') !== undefined) request.runningJobs = parseCount(str('jobs')!, '--jobs', 0, 1_000_000);
  if (Object.keys(request).length === 0) {
    throw new UsageError('nothing to set: give at least one of --cpus, --mem, --gpus, --jobs');
  }
  return request;
}

/** `shoal quota set`. */
export const quotaSetCommand: CommandSpec = {
  words: ['quota', 'set'],
  argsUsage: '<namespace>',
  summary: "Set a namespace's limits on what its running jobs hold at once",
  description:
    'Only the limits given change. Jobs over the quota wait with reason Quota; running jobs are not stopped.',
  options: {
    cpus: { type: 'string', short: 'c', value: 'N', description: 'CPUs (fractions allowed)' },
    mem: { type: 'string', value: 'SIZE', description: 'memory: 512G, 2T (a bare number is MiB)' },
    gpus: { type: 'string', value: 'N', description: 'GPUs' },
    jobs: { type: 'string', value: 'N', description: 'running jobs' },
    output: outputOption(['table', 'json']),
  },
  outputs: ['table', 'json'],
  minArgs: 1,
  maxArgs: 1,
  remote: true,
  examples: ['shoal quota set ml-team --cpus 64 --mem 256G --gpus 4', 'shoal quota set students --jobs 10'],
  async run(context) {
    const namespace = parseNamespace(context.args[0]!, 'namespace');
    const body = buildQuotaRequest(context.options);
    const view = await context.client().call<QuotaView>('PUT', `/v1/quotas/${encodeURIComponent(namespace)}`, { body });
    context.stdout.write(context.output === 'json' ? toJson(view) : renderQuotas([view]));
    return ExitCode.ok;
  },
};

/** `shoal quota rm`. */
export const quotaRmCommand: CommandSpec = {
  words: ['quota', 'rm'],
  aliases: ['remove'],
  argsUsage: '<namespace>...',
  summary: "Remove namespaces' quotas (their jobs are then limited by the cluster only)",
  options: {},
  minArgs: 1,
  remote: true,
  examples: ['shoal quota rm students'],
  async run(context) {
    const namespaces = context.args.map((ns) => parseNamespace(ns, 'namespace'));
    for (const namespace of namespaces) {
      await context.client().call<null>('DELETE', `/v1/quotas/${encodeURIComponent(namespace)}`);
      context.stdout.write(`${namespace}\n`);
    }
    return ExitCode.ok;
  },
};
