/**
 * Parsing of the Slurm-flavoured flags of `shoal job submit` and `shoal quota set`: time limits,
 * arrays, dependencies, sizes, begin times. Pure functions that throw a {@link UsageError}
 * naming the flag, so a bad value is refused before anything is sent.
 * @module
 */
import { UsageError } from '../errors.js';

/** A job id as the agent names jobs: `17`, or one array unit `17_3`. */
export const JOB_ID_PATTERN = /^[1-9][0-9]{0,15}(_[0-9]{1,8})?$/;

/** A namespace (Slurm's account): lowercase letters, digits and inner dashes. */
const NAMESPACE_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const SECONDS: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 };

function bad(flag: string, text: string, expected: string): UsageError {
  return new UsageError(`${flag} ${JSON.stringify(text)}: expected ${expected}`);
}

/**
 * The longest time limit, in days: 365 (`365-00:00:00`); `UNLIMITED` for longer. The agent
 * checks the same bound (`MAX_TIME_LIMIT_MS` in src/stack/shoal.ts; the CLI imports nothing outside src/cli).
 */
export const MAX_TIME_LIMIT_DAYS = 365;

/**
 * A wall-clock limit in Slurm's forms (`MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`)
 * or shoal's (`90s`, `1h30m`, `2d`), as a shoal duration in whole seconds (`5400s`) the agent reads.
 * `UNLIMITED`/`INFINITE` mean no limit: undefined. At most {@link MAX_TIME_LIMIT_DAYS} days.
 * @throws {UsageError} naming the flag, for a malformed value or one over the bound.
 * @example parseTimeLimit('1:30:00') // "5400s"
 * @example parseTimeLimit('90') // "5400s" (Slurm: a bare number is minutes)
 */
export function parseTimeLimit(text: string, flag = '--time'): string | undefined {
  const value = text.trim();
  if (/^(unlimited|infinite)$/i.test(value)) return undefined;
  const seconds = slurmSeconds(value) ?? unitSeconds(value);
  if (seconds === undefined || !Number.isFinite(seconds) || seconds <= 0) {
    throw bad(flag, text, 'a time limit such as 90 (minutes), 30:00, 1:30:00, 2-12:00:00, 90s or 1h30m');
  }
  if (seconds > MAX_TIME_LIMIT_DAYS * 86_400) {
    throw new UsageError(
      `${flag} ${JSON.stringify(text)}: the longest time limit is ${MAX_TIME_LIMIT_DAYS} days (${MAX_TIME_LIMIT_DAYS}-00:00:00); use UNLIMITED for a job without one`,
    );
  }
  return `${Math.ceil(seconds)}s`;
}

/** Slurm's colon forms; undefined when `value` is not one. */
function slurmSeconds(value: string): number | undefined {
  const days = /^(\d+)-(\d+)(?::(\d+))?(?::(\d+))?$/.exec(value);
  if (days) {
    const [, d, h, m = '0', s = '0'] = days;
    if (Number(m) >= 60 || Number(s) >= 60) return undefined;
    return Number(d) * 86_400 + Number(h) * 3600 + Number(m) * 60 + Number(s);
  }
  if (!/^\d+(:\d+){0,2}$/.test(value)) return undefined;
  const parts = value.split(':').map(Number);
  // Later parts are seconds/minutes and stay under 60; the first may be any size (`90` minutes).
  if (parts.slice(1).some((n) => n >= 60)) return undefined;
  if (parts.length === 1) return parts[0]! * 60;
  if (parts.length === 2) return parts[0]! * 60 + parts[1]!;
  return parts[0]! * 3600 + parts[1]! * 60 + parts[2]!;
}

/** `90s`, `1h30m`, `1.5h`, `2d`, `500ms`; undefined when `value` is not one. */
function unitSeconds(value: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(value); m !== null; m = re.exec(value)) {
    total += Number(m[1]) * SECONDS[m[2]!]!;
    end = re.lastIndex;
  }
  return end > 0 && end === value.length ? total : undefined;
}

/**
 * Slurm's `--array`: indexes and ranges (`1,3,5-7`, `0-15:4`) with an optional `%N` cap on how
 * many run at once. Checked here, sent as written (trimmed).
 * @example parseArray('0-99%10') // "0-99%10"
 */
export function parseArray(text: string): string {
  const value = text.trim();
  const expected = 'indexes such as 0-99, 1,3,5-7, 0-15:4 or 0-99%10';
  const [body, cap, extra] = value.split('%');
  if (extra !== undefined || !body) throw bad('--array', text, expected);
  if (cap !== undefined && !/^[1-9]\d{0,8}$/.test(cap)) throw bad('--array', text, `${expected} (%N: N >= 1)`);
  for (const part of body.split(',')) {
    const m = /^(\d{1,9})(?:-(\d{1,9})(?::(\d{1,9}))?)?$/.exec(part);
    if (!m) throw bad('--array', text, expected);
    if (m[2] !== undefined && Number(m[2]) < Number(m[1])) {
      throw new UsageError(`--array ${JSON.stringify(text)}: the range ${part} runs backwards; write it low-high`);
    }
    if (m[3] !== undefined && Number(m[3]) < 1) throw bad('--array', text, `${expected} (a :step >= 1)`);
  }
  return value;
}

/** Dependency types the agent runs (Slurm's `after`, `aftercorr`, `singleton` and `?` are not). */
const DEPENDENCY_TYPES: ReadonlySet<string> = new Set(['afterok', 'afterany', 'afternotok']);

/**
 * Slurm's `--dependency`: `afterok:12[:13],afterany:9`. Checked here, sent as written (trimmed).
 * @example parseDependency('afterok:12:13,afterany:9') // "afterok:12:13,afterany:9"
 */
export function parseDependency(text: string): string {
  const value = text.trim();
  for (const part of value.split(',')) {
    const [type = '', ...ids] = part.split(':');
    if (!DEPENDENCY_TYPES.has(type)) {
      throw new UsageError(
        `--dependency ${JSON.stringify(text)}: unknown type "${type}"; use afterok, afterany or afternotok, e.g. afterok:12:13,afterany:9`,
      );
    }
    const wrong = ids.find((id) => !/^[1-9]\d{0,15}$/.test(id));
    if (ids.length === 0 || wrong !== undefined) {
      throw new UsageError(
        `--dependency ${JSON.stringify(text)}: expected job ids after "${type}:"${wrong === undefined ? '' : `, got "${wrong}"`}, e.g. ${type}:12:13`,
      );
    }
  }
  return value;
}

/**
 * A memory size as the agent takes it (`512M`, `2G`, `1.5GiB`). A bare number means MiB, as in
 * Slurm's `--mem 4096`.
 * @example parseMemory('4096') // "4096M"
 */
export function parseMemory(text: string, flag = '--mem'): string {
  const value = text.trim();
  if (/^\d+$/.test(value) && Number(value) > 0) return `${value}M`;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp])(i?b)?$/i.exec(value);
  if (!m || Number(m[1]) <= 0) throw bad(flag, text, 'a size such as 512M, 4G or 1.5GiB (a bare number is MiB)');
  return value.replace(/\s+/g, '');
}

/**
 * A non-negative number of CPUs (fractions allowed: `0.5`); with `positive`, above 0 (what one
 * job unit reserves: a unit of 0 CPUs would fit anywhere without limit).
 * @example parseCpus('0.5') // 0.5
 */
export function parseCpus(text: string, flag = '--cpus', options: { positive?: boolean } = {}): number {
  const value = Number(text.trim());
  if (!/^\d*\.?\d+$/.test(text.trim()) || !Number.isFinite(value)) {
    throw bad(flag, text, 'a number of CPUs such as 1, 4 or 0.5');
  }
  if (options.positive === true && value <= 0) throw bad(flag, text, 'more than 0 CPUs, such as 1, 4 or 0.5');
  return value;
}

/**
 * A whole number in `[min, max]`.
 * @example parseCount('4', '--gpus') // 4
 */
export function parseCount(text: string, flag: string, min = 0, max = 1_000_000): number {
  const value = Number(text.trim());
  if (!/^\d{1,9}$/.test(text.trim()) || value < min || value > max) {
    throw bad(flag, text, `a whole number from ${min} to ${max}`);
  }
  return value;
}

/** Check a namespace name (sent as the `namespace` of a job, or in a quota path). */
export function parseNamespace(text: string, flag = '--namespace'): string {
  if (!NAMESPACE_PATTERN.test(text)) {
    throw bad(flag, text, 'a namespace of lowercase letters, digits and dashes, such as ml-team');
  }
  return text;
}

/**
 * `--env K=V` values (repeatable) as a map; later values win.
 * @example parseEnv(['A=1', 'B=x=y']) // { A: '1', B: 'x=y' }
 */
export function parseEnv(entries: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of entries) {
    const at = entry.indexOf('=');
    const key = at < 0 ? entry : entry.slice(0, at);
    if (at < 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
      throw bad('--env', entry, 'KEY=VALUE, e.g. --env OMP_NUM_THREADS=4');
    env[key] = entry.slice(at + 1);
  }
  return env;
}

/**
 * `--begin`: `now`, `now+10m` (`now+60` is seconds, as in Slurm), an ISO date or time
 * (`2024-05-01T10:00:00Z`, `2024-05-01`), or `HH:MM[:SS]` (the next such local time), in ms since epoch.
 * @example parseBegin('now+10m', 0) // 600000
 */
export function parseBegin(text: string, now: number): number {
  const value = text.trim();
  const expected = 'now, now+10m, now+1h30m, 2024-05-01T10:00:00Z or 22:00';
  const relative = /^now(?:\+(.+))?$/i.exec(value);
  if (relative) {
    if (relative[1] === undefined) return now;
    const seconds = /^\d+$/.test(relative[1]) ? Number(relative[1]) : unitSeconds(relative[1]);
    if (seconds === undefined) throw bad('--begin', text, expected);
    return now + Math.round(seconds * 1000);
  }
  const clock = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (clock) {
    const [h, m, s] = [Number(clock[1]), Number(clock[2]), Number(clock[3] ?? 0)];
    if (h > 23 || m > 59 || s > 59) throw bad('--begin', text, expected);
    const at = new Date(now);
    at.setHours(h, m, s, 0);
    return at.getTime() < now ? at.getTime() + 86_400_000 : at.getTime();
  }
  const absolute = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(absolute)) throw bad('--begin', text, expected);
  return absolute;
}
