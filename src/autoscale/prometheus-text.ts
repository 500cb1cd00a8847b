/**
 * The one number the autoscaler needs from a task's Prometheus text exposition
 * (https://prometheus.io/docs/instrumenting/exposition_formats/): the sum of the samples of one
 * metric name over all its label sets. Comments, other metrics and non-finite values are skipped;
 * the caller bounds the input's size.
 *
 * @module
 */

/**
 * The sum of `name`'s samples, or `null` when the text has none.
 * @example
 * ```ts
 * metricSum('q{shard="a"} 3\nq{shard="b"} 4\n', 'q'); // 7
 * ```
 */
export function metricSum(text: string, name: string): number | null {
  let sum = 0;
  let found = false;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const value = sampleOf(text.slice(start, end), name);
    if (value !== null) {
      sum += value;
      found = true;
    }
    start = end + 1;
  }
  return found ? sum : null;
}

/** The value of one exposition line if it is a sample of `name`. */
function sampleOf(raw: string, name: string): number | null {
  const line = raw.trim();
  if (line === '' || line.startsWith('#') || !line.startsWith(name)) return null;
  let i = name.length;
  if (line[i] === '{') {
    // Label values are quoted and may hold `}`, spaces and escaped quotes.
    let quoted = false;
    for (i++; i < line.length; i++) {
      const c = line[i];
      if (quoted && c === '\\') i++;
      else if (c === '"') quoted = !quoted;
      else if (!quoted && c === '}') break;
    }
    if (i >= line.length) return null;
    i++;
  }
  if (line[i] !== ' ' && line[i] !== '\t') return null; // another metric whose name starts with `name`
  const text = line.slice(i).trim().split(/\s+/)[0] ?? '';
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}
