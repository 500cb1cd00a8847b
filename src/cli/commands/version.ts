/**
 * `shoal version`: the CLI's version (local, no agent needed).
 * @module
 */
import { outputOption, type CommandSpec } from '../command.js';
import { ExitCode } from '../errors.js';
import { toJson } from '../format.js';
import { SHOAL_VERSION } from '../version.js';

/** `shoal version`. */
export const versionCommand: CommandSpec = {
  words: ['version'],
  summary: 'Print the version of this shoal binary',
  description: "Each node's agent version is in `shoal node ls -o wide`.",
  options: { output: outputOption(['table', 'json']) },
  outputs: ['table', 'json'],
  maxArgs: 0,
  remote: false,
  examples: ['shoal version', 'shoal version -o json'],
  async run(context) {
    const info = {
      version: SHOAL_VERSION,
      node: process.versions.node,
      platform: `${process.platform}/${process.arch}`,
    };
    if (context.output === 'json') context.stdout.write(toJson(info));
    else context.stdout.write(`shoal ${info.version} (node ${info.node}, ${info.platform})\n`);
    return ExitCode.ok;
  },
};
