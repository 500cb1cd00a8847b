/**
 * `shoal node drain|activate|pause` and `shoal node label add|rm`: changing a node's
 * availability and labels (what `docker node update --availability/--label-add` does).
 * @module
 */
import type { NodeView } from '../../api/types.js';
import { outputOption, type CommandContext, type CommandSpec } from '../command.js';
import { ExitCode, UsageError } from '../errors.js';
import { toJson } from '../format.js';
import { resolveNodeId } from './node.js';

type Availability = NodeView['availability'];

const NODE_REFERENCE = 'A node is named by its id, a unique prefix of it (as `shoal node ls` shows) or its hostname.';

function nodePath(id: string, suffix: string): string {
  return `/v1/nodes/${encodeURIComponent(id)}${suffix}`;
}

/** Print the changed nodes: their ids (docker prints what it changed), or the NodeViews as JSON. */
function printNodes(context: CommandContext, nodes: readonly NodeView[]): void {
  if (context.output === 'json') context.stdout.write(toJson(nodes));
  else context.stdout.write(nodes.map((node) => `${node.id}\n`).join(''));
}

function availabilityCommand(
  word: 'drain' | 'activate' | 'pause',
  availability: Availability,
  summary: string,
  description: string,
): CommandSpec {
  return {
    words: ['node', word],
    argsUsage: '<node>...',
    summary,
    description: `${description}\n${NODE_REFERENCE}`,
    options: { output: outputOption(['table', 'json']) },
    outputs: ['table', 'json'],
    minArgs: 1,
    remote: true,
    examples: [
      `shoal node ${word} gpu-07`,
      `shoal node ${word} 12D3KooWQYhTNQdm gpu-08`,
      `shoal node ${word} gpu-07 -o json`,
    ],
    async run(context) {
      const client = context.client();
      const nodes: NodeView[] = [];
      for (const reference of context.args) {
        const id = await resolveNodeId(client, reference);
        const node = await client.call<NodeView>('POST', nodePath(id, '/availability'), { body: { availability } });
        nodes.push(node);
        // Printed as each one is done, so a failure on the third says which two were changed.
        if (context.output !== 'json') context.stdout.write(`${node.id}\n`);
      }
      if (context.output === 'json') context.stdout.write(toJson(nodes));
      return ExitCode.ok;
    },
  };
}

/** `shoal node drain`. */
export const nodeDrainCommand = availabilityCommand(
  'drain',
  'drain',
  'Move the tasks off nodes and place no new ones there (for maintenance)',
  "The scheduler stops the node's tasks and starts them elsewhere; `shoal node activate` undoes it.",
);

/** `shoal node activate`. */
export const nodeActivateCommand = availabilityCommand(
  'activate',
  'active',
  'Make nodes available for tasks again',
  'Undoes drain and pause. Running tasks are not moved back: new placements use the node.',
);

/** `shoal node pause`. */
export const nodePauseCommand = availabilityCommand(
  'pause',
  'pause',
  'Place no new tasks on nodes, keeping the ones they run',
  'Tasks already on the node keep running; `shoal node activate` undoes it.',
);

/** `k=v` arguments as a record; a key given twice is a usage error (which should win?). */
export function parseLabelArgs(args: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new UsageError(`"${arg}": expected KEY=VALUE, e.g. zone=a`);
    const key = arg.slice(0, eq);
    if (Object.hasOwn(labels, key)) throw new UsageError(`label ${key} is given more than once`);
    labels[key] = arg.slice(eq + 1);
  }
  return labels;
}

/** `shoal node label add`. */
export const nodeLabelAddCommand: CommandSpec = {
  words: ['node', 'label', 'add'],
  argsUsage: '<node> <key>=<value>...',
  summary: 'Add or change labels of a node (for placement constraints)',
  description:
    'Services place on labels with `deploy.placement.constraints: [node.labels.zone == a]`.\n' + NODE_REFERENCE,
  options: { output: outputOption(['table', 'json']) },
  outputs: ['table', 'json'],
  minArgs: 2,
  remote: true,
  examples: ['shoal node label add gpu-07 zone=a gpu=h100', 'shoal node label add 12D3KooWQYhTNQdm disk=ssd -o json'],
  async run(context) {
    const [reference, ...pairs] = context.args;
    const add = parseLabelArgs(pairs);
    const client = context.client();
    const id = await resolveNodeId(client, reference!);
    printNodes(context, [await client.call<NodeView>('POST', nodePath(id, '/labels'), { body: { add } })]);
    return ExitCode.ok;
  },
};

/** `shoal node label rm`. */
export const nodeLabelRmCommand: CommandSpec = {
  words: ['node', 'label', 'rm'],
  aliases: ['remove'],
  argsUsage: '<node> <key>...',
  summary: 'Remove labels from a node',
  description: NODE_REFERENCE,
  options: { output: outputOption(['table', 'json']) },
  outputs: ['table', 'json'],
  minArgs: 2,
  remote: true,
  examples: ['shoal node label rm gpu-07 zone', 'shoal node label rm gpu-07 zone gpu'],
  async run(context) {
    const [reference, ...keys] = context.args;
    for (const key of keys) {
      if (key.includes('=')) throw new UsageError(`"${key}": give label keys only (zone, not zone=a)`);
    }
    const client = context.client();
    const id = await resolveNodeId(client, reference!);
    const remove = [...new Set(keys)];
    printNodes(context, [await client.call<NodeView>('POST', nodePath(id, '/labels'), { body: { remove } })]);
    return ExitCode.ok;
  },
};
