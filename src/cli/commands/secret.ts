/**
 * `shoal secret create|ls|inspect|rm` and `shoal config create|ls|inspect|rm`: Swarm's secrets
 * and configs. A value goes in from a file or stdin (`-`) and a secret's never comes back: `ls`,
 * `inspect` and `-o json` show its name, size and users only. `config inspect` shows the content.
 * @module
 */
import { readFileSync } from 'node:fs';
import type { ConfigInspectView, FileObjectKind, FileObjectView } from '../../api/secret-types.js';
import { STALE_OPTION, outputOption, type CommandSpec } from '../command.js';
import { ExitCode, UsageError } from '../errors.js';
import { ago, formatBytes, orDash, renderFields, renderTable, toJson } from '../format.js';

/** Swarm's limit, checked here too so a large file is refused before it is sent. */
const MAX_BYTES = 500 * 1024;

/** The value of `create`: a file's bytes, or stdin's for `-`. */
export function readValue(source: string, kind: FileObjectKind, read: (path: string | 0) => Buffer): Buffer {
  let value: Buffer;
  try {
    value = read(source === '-' ? 0 : source);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot read the ${kind} from ${source === '-' ? 'stdin' : source}: ${code ?? (error as Error).message}`,
    );
  }
  if (value.length === 0) throw new UsageError(`the ${kind} is empty: give a file with the value, or - for stdin`);
  if (value.length > MAX_BYTES)
    throw new UsageError(`the ${kind} is ${value.length} bytes: a ${kind} holds at most 500 KB (${MAX_BYTES} bytes)`);
  return value;
}

/** The table of `ls`. */
export function renderFileObjects(views: readonly FileObjectView[], now: number): string {
  const rows = [...views]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((v) => [
      v.name,
      formatBytes(v.sizeBytes),
      orDash(v.stack),
      v.usedBy.length === 0 ? '-' : v.usedBy.join(','),
      ago(v.createdAt, now),
    ]);
  return renderTable(['NAME', 'SIZE', 'STACK', 'USED BY', 'CREATED'], rows);
}

function createCommand(kind: FileObjectKind): CommandSpec {
  return {
    words: [kind, 'create'],
    argsUsage: '<name> <file|->',
    summary: `Create a ${kind} from a file or stdin`,
    description:
      (kind === 'secret'
        ? 'The value is sealed with the cluster data key before it enters the Raft log, and reaches only the\n' +
          'nodes that run a task using it, as a file on tmpfs (/run/secrets/<name> by default).\n'
        : 'The content reaches the tasks using it as a file (/<name> by default).\n') +
      `A ${kind} cannot be changed: to rotate, create one under a new name, deploy with it, then rm the old one.\n` +
      'At most 500 KB; names use letters, digits, "-", "_" and ".".',
    options: { output: outputOption(['table', 'json']) },
    outputs: ['table', 'json'],
    minArgs: 2,
    maxArgs: 2,
    remote: true,
    examples:
      kind === 'secret'
        ? [
            'shoal secret create db_password ./db_password.txt',
            'printf \'%s\' "$TOKEN" | shoal secret create api_token -',
          ]
        : ['shoal config create nginx_conf ./nginx.conf'],
    async run(context) {
      const [name, source] = context.args as [string, string];
      const value = readValue(source, kind, (path) => readFileSync(path));
      const view = await context
        .client()
        .call<FileObjectView>('POST', `/v1/${kind}s`, { body: { name, data: value.toString('base64') } });
      context.stdout.write(context.output === 'json' ? toJson(view) : `${view.name}\n`);
      return ExitCode.ok;
    },
  };
}

function lsCommand(kind: FileObjectKind): CommandSpec {
  return {
    words: [kind, 'ls'],
    aliases: ['list'],
    summary: `List the ${kind}s with their size, stack and the services using them`,
    options: { output: outputOption(['table', 'json']), stale: STALE_OPTION },
    outputs: ['table', 'json'],
    maxArgs: 0,
    remote: true,
    examples: [`shoal ${kind} ls`, `shoal ${kind} ls -o json | jq -r '.[].name'`],
    async run(context) {
      const views = await context
        .client()
        .call<FileObjectView[]>('GET', `/v1/${kind}s`, { query: { stale: context.options.stale === true } });
      context.stdout.write(context.output === 'json' ? toJson(views) : renderFileObjects(views, context.now()));
      return ExitCode.ok;
    },
  };
}

function inspectCommand(kind: FileObjectKind): CommandSpec {
  return {
    words: [kind, 'inspect'],
    argsUsage: '<name>',
    summary:
      kind === 'secret' ? "Show a secret's size, stack and users (never its value)" : 'Show a config and its content',
    options: { output: outputOption(['table', 'json']), stale: STALE_OPTION },
    outputs: ['table', 'json'],
    minArgs: 1,
    maxArgs: 1,
    remote: true,
    examples: [`shoal ${kind} inspect ${kind === 'secret' ? 'db_password' : 'nginx_conf'}`],
    async run(context) {
      const name = context.args[0]!;
      const view = await context
        .client()
        .call<FileObjectView | ConfigInspectView>('GET', `/v1/${kind}s/${encodeURIComponent(name)}`, {
          query: { stale: context.options.stale === true },
        });
      if (context.output === 'json') {
        context.stdout.write(toJson(view));
        return ExitCode.ok;
      }
      const fields: [string, string][] = [
        ['Name', view.name],
        ['Size', formatBytes(view.sizeBytes)],
        ['Stack', orDash(view.stack)],
        ['Used by', view.usedBy.length === 0 ? '-' : view.usedBy.join(', ')],
        ['Created', ago(view.createdAt, context.now())],
      ];
      context.stdout.write(renderFields(fields));
      if ('contentBase64' in view)
        context.stdout.write(
          view.content === null ? '(binary content: see -o json, contentBase64)\n' : `\n${view.content}`,
        );
      return ExitCode.ok;
    },
  };
}

function rmCommand(kind: FileObjectKind): CommandSpec {
  return {
    words: [kind, 'rm'],
    aliases: ['remove'],
    argsUsage: '<name>...',
    summary: `Remove ${kind}s no service uses`,
    description: `A ${kind} in use is kept: deploy the services without it (or remove them) first.`,
    options: {},
    minArgs: 1,
    remote: true,
    examples: [`shoal ${kind} rm ${kind === 'secret' ? 'db_password' : 'nginx_conf'}`],
    async run(context) {
      for (const name of context.args) {
        await context.client().call<{ removed: string }>('DELETE', `/v1/${kind}s/${encodeURIComponent(name)}`);
        context.stdout.write(`${name}\n`);
      }
      return ExitCode.ok;
    },
  };
}

export const secretCreateCommand = createCommand('secret');
export const secretLsCommand = lsCommand('secret');
export const secretInspectCommand = inspectCommand('secret');
export const secretRmCommand = rmCommand('secret');
export const configCreateCommand = createCommand('config');
export const configLsCommand = lsCommand('config');
export const configInspectCommand = inspectCommand('config');
export const configRmCommand = rmCommand('config');
