/**
 * Parsing of option values shared by commands.
 * @module
 */
import type { OptionSpec } from './command.js';
import { UsageError } from './errors.js';

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration like `500ms`, `10s`, `2m`, `1h`, or a bare number of seconds, in milliseconds.
 * @example parseDuration('1.5s', '--timeout') // 1500
 */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const ms = match ? Math.round(Number(match[1]) * UNITS[match[2] ?? 's']!) : NaN;
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new UsageError(`${flag} ${JSON.stringify(text)}: expected a positive duration such as 500ms, 10s or 2m`);
  }
  return ms;
}

/**
 * The usage error for a flag given a negative number (`-c -1`), which no shoal flag accepts;
 * node's parseArgs would call it "ambiguous" (it reads `-1` as a flag). Undefined when there is none.
 * @example negativeValueError(['-c', '-1'], { cpus: { type: 'string', short: 'c', description: '' } })?.message
 * // '-c -1: negative values are not valid for -c (--cpus); give 0 or more'
 */
export function negativeValueError(
  args: readonly string[],
  options: Readonly<Record<string, OptionSpec>>,
): UsageError | undefined {
  const names = new Map<string, string>();
  for (const [name, option] of Object.entries(options)) {
    if (option.type !== 'string') continue;
    names.set(`--${name}`, `--${name}`);
    if (option.short) names.set(`-${option.short}`, `-${option.short} (--${name})`);
  }
  for (let i = 0; i + 1 < args.length && args[i] !== '--'; i++) {
    const flag = names.get(args[i]!);
    const value = args[i + 1]!;
    if (flag !== undefined && /^-\d/.test(value)) {
      return new UsageError(`${args[i]} ${value}: negative values are not valid for ${flag}; give 0 or more`);
    }
    if (flag !== undefined) i++;
  }
  return undefined;
}
