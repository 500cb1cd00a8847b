/**
 * `shoal service history|rollback|promote|update`: a service's versions and its rollouts
 * (issue 15). The rollout itself runs in the cluster; these commands return once the change is
 * applied, and `shoal service ls` shows how the rollout goes.
 * @module
 */
import type { ServiceHistoryView, ServiceUpdateRequest } from '../../api/rollout-routes.js';
import type { ServiceView } from '../../api/types.js';
import { outputOption, STALE_OPTION, type CommandContext, type CommandSpec } from '../command.js';
import { ExitCode, UsageError } from '../errors.js';
import { renderTable, toJson } from '../format.js';
import { serviceName, servicePath } from './service.js';

/** `2026-12-08 01:02:03`, UTC: a history is read across machines. */
function when(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/** The human table of a service's versions, oldest first; the current one is marked `*`. */
export function renderHistory(history: ServiceHistoryView): string {
  const rows = history.versions.map((v) => [
    `${v.version}${v.current ? ' *' : ''}`,
    v.image,
    when(v.createdAt),
    v.stable ? 'yes' : 'no',
    [v.rollbackOf === null ? '' : `rollback to ${v.rollbackOf}`, v.force > 0 ? `force ${v.force}` : '']
      .filter((s) => s !== '')
      .join(', '),
  ]);
  return renderTable(['VERSION', 'IMAGE', 'CREATED', 'STABLE', 'NOTE'], rows);
}

/** One line about a service's rollout, for after a change: `web_api: version 4, rolling back ...`. */
export function describeUpdate(view: ServiceView): string {
  const u = view.update;
  if (u === undefined) return `${serviceName(view)}: version ${view.version}\n`;
  const reason = u.reason === '' ? '' : ` (${u.reason})`;
  return `${serviceName(view)}: version ${view.version}, ${u.state.replace(/_/g, ' ')}${reason}\n`;
}

function printChange(context: CommandContext, view: ServiceView): number {
  context.stdout.write(context.output === 'json' ? toJson(view) : describeUpdate(view));
  return ExitCode.ok;
}

/** `shoal service history`. */
export const serviceHistoryCommand: CommandSpec = {
  words: ['service', 'history'],
  argsUsage: '<service>',
  summary: 'List the last versions of a service',
  description:
    'The last 10 versions, oldest first; * marks the current one. STABLE: its rollout completed with\n' +
    'every task healthy, so an automatic rollback may go back to it.',
  options: { output: outputOption(['table', 'json']), stale: STALE_OPTION },
  outputs: ['table', 'json'],
  minArgs: 1,
  maxArgs: 1,
  remote: true,
  examples: ['shoal service history web_api', "shoal service history web_api -o json | jq '.versions[-1]'"],
  async run(context) {
    const history = await context.client().call<ServiceHistoryView>('GET', servicePath(context.args[0]!, '/history'), {
      query: { stale: context.options.stale === true },
    });
    context.stdout.write(context.output === 'json' ? toJson(history) : renderHistory(history));
    return ExitCode.ok;
  },
};

/** `shoal service rollback`. */
export const serviceRollbackCommand: CommandSpec = {
  words: ['service', 'rollback'],
  argsUsage: '<service>',
  summary: 'Go back to an earlier version of a service',
  description:
    'Makes a new version with the spec of the last stable version (or of --to N), rolled out with\n' +
    "the service's rollback_config. Tasks that already run that spec are kept.",
  options: {
    to: { type: 'string', value: 'N', description: 'the version to go back to (see `shoal service history`)' },
    output: outputOption(['table', 'json']),
  },
  outputs: ['table', 'json'],
  minArgs: 1,
  maxArgs: 1,
  remote: true,
  examples: ['shoal service rollback web_api', 'shoal service rollback web_api --to 3'],
  async run(context) {
    const to = context.options.to as string | undefined;
    if (to !== undefined && !/^[1-9]\d{0,9}$/.test(to))
      throw new UsageError(`--to: expected a version number (1, 2, ...), got "${to}"`);
    const view = await context.client().call<ServiceView>('POST', servicePath(context.args[0]!, '/rollback'), {
      body: to === undefined ? {} : { to: Number(to) },
    });
    return printChange(context, view);
  },
};

/** `shoal service promote`. */
export const servicePromoteCommand: CommandSpec = {
  words: ['service', 'promote'],
  argsUsage: '<service>',
  summary: 'Let a canary rollout go on past its canaries',
  description:
    'With x-shoal.update.canary: N, a rollout runs N new tasks beside the old ones and waits\n' +
    '(awaiting promotion) until this command, or auto_promote, lets the canaries take over their\n' +
    'slots and the rollout replace the others.',
  options: { output: outputOption(['table', 'json']) },
  outputs: ['table', 'json'],
  minArgs: 1,
  maxArgs: 1,
  remote: true,
  examples: ['shoal service promote web_api'],
  async run(context) {
    const view = await context.client().call<ServiceView>('POST', servicePath(context.args[0]!, '/promote'));
    return printChange(context, view);
  },
};

/** `K=V` options into a map; anything else is a usage error. */
export function parseEnvAdd(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env-add: expected KEY=VALUE, got "${value}"`);
    out[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return out;
}

function list(value: unknown): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/** `shoal service update`. */
export const serviceUpdateCommand: CommandSpec = {
  words: ['service', 'update'],
  argsUsage: '<service>',
  summary: 'Change one service without a Compose file, and roll the change out',
  description:
    'Makes a new version of the service from its current spec and rolls it out with its update_config\n' +
    '(health-gated; failure_action pause, continue or rollback). --force makes a new version of an\n' +
    'unchanged spec: every task is replaced. A later `shoal stack deploy` of the file wins again.',
  options: {
    image: { type: 'string', value: 'IMAGE', description: 'the new image, e.g. nginx:1.27' },
    'env-add': {
      type: 'string',
      multiple: true,
      value: 'K=V',
      description: 'set an environment variable (repeatable)',
    },
    'env-rm': {
      type: 'string',
      multiple: true,
      value: 'K',
      description: 'remove an environment variable (repeatable)',
    },
    force: { type: 'boolean', description: 'replace every task even if nothing changed' },
    output: outputOption(['table', 'json']),
  },
  outputs: ['table', 'json'],
  minArgs: 1,
  maxArgs: 1,
  remote: true,
  examples: [
    'shoal service update web_api --image nginx:1.27',
    'shoal service update web_api --env-add LOG_LEVEL=debug --env-rm DEBUG',
    'shoal service update web_api --force',
  ],
  async run(context) {
    const o = context.options;
    const envAdd = parseEnvAdd(list(o['env-add']));
    const envRm = list(o['env-rm']);
    const request: ServiceUpdateRequest = {
      ...(o.image === undefined ? {} : { image: o.image as string }),
      ...(Object.keys(envAdd).length === 0 ? {} : { envAdd }),
      ...(envRm.length === 0 ? {} : { envRm }),
      ...(o.force === true ? { force: true } : {}),
    };
    if (Object.keys(request).length === 0)
      throw new UsageError('nothing to update: give --image, --env-add, --env-rm or --force');
    const view = await context
      .client()
      .call<ServiceView>('POST', servicePath(context.args[0]!, '/update'), { body: request });
    return printChange(context, view);
  },
};
