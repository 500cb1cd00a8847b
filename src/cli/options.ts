/**
 * Parsing of option values shared by commands.
 * @module
 */
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
