/**
 * Compose value formats: durations (`1m30s`), byte sizes (`512M`, `2GiB`),
 * CPU counts (`'0.5'`) and shell-split command strings. Each parser throws a
 * `RangeError` saying what it expected; the validator turns that into a
 * positioned error.
 *
 * @module
 */

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parses a Go-style duration (`10s`, `1m30s`, `1.5h`, `300ms`) into whole
 * milliseconds. A bare number is taken as seconds.
 *
 * @example
 * ```ts
 * parseDuration('1m30s'); // 90000
 * ```
 */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new RangeError('expected a duration >= 0');
    return Math.round(input * 1000);
  }
  const s = input.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const re = /(\d+(?:\.\d+)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h|d)/gy;
  let total = 0;
  let pos = 0;
  let matched = false;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    pos = re.lastIndex;
    matched = true;
  }
  if (!matched || pos !== s.length) throw new RangeError('expected a duration such as 10s, 1m30s or 500ms');
  return Math.round(total);
}

const BYTE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/**
 * Parses a byte size the way Docker does (binary multiples, case-insensitive,
 * optional `b`/`ib` suffix): `512M`, `1g`, `2GiB`, `1024kb`, `100`.
 *
 * @example
 * ```ts
 * parseBytes('512M'); // 536870912
 * ```
 */
export function parseBytes(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new RangeError('expected a size >= 0');
    return Math.floor(input);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?\s*$/i.exec(input);
  if (!m) throw new RangeError('expected a size such as 512M, 1g or 2GiB');
  if (m[2] === '' && m[3] !== undefined && m[3].toLowerCase() === 'ib')
    throw new RangeError('expected a size such as 512M, 1g or 2GiB');
  return Math.floor(Number(m[1]) * BYTE_UNITS[m[2]!.toLowerCase()]!);
}

/**
 * Parses a CPU count (`0.5`, `'2'`) into millicores (500, 2000).
 *
 * @example
 * ```ts
 * parseCpus('0.5'); // 500
 * ```
 */
export function parseCpus(input: string | number): number {
  const n = typeof input === 'number' ? input : /^\s*\d*\.?\d+\s*$/.test(input) ? Number(input) : NaN;
  if (!Number.isFinite(n) || n < 0) throw new RangeError('expected a CPU count such as 0.5 or 2');
  return Math.round(n * 1000);
}

/**
 * Splits a command string into words like a POSIX shell (and Compose) would:
 * whitespace separates, single quotes are literal, double quotes allow `\"`,
 * `\\`, `\$` and `` \` `` escapes, a backslash outside quotes escapes the next
 * character. No expansion is done.
 *
 * @example
 * ```ts
 * shellSplit(`sh -c 'echo "hi there"'`); // ['sh', '-c', 'echo "hi there"']
 * ```
 */
export function shellSplit(input: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0) throw new RangeError('unterminated single quote');
      word += input.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < input.length) {
        const d = input[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && i + 1 < input.length && '"\\$`\n'.includes(input[i + 1]!)) {
          if (input[i + 1] !== '\n') word += input[i + 1];
          i += 2;
          continue;
        }
        word += d;
        i++;
      }
      if (!closed) throw new RangeError('unterminated double quote');
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 < input.length && input[i + 1] !== '\n') {
        word += input[i + 1];
        inWord = true;
      }
      i += 2;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}
