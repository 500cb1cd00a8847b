/**
 * How the UI writes times, sizes and ids: as the CLI's tables do, short and readable.
 * @module
 */

/**
 * A past moment relative to `now`: `12s ago`, `5m ago`, `3h ago`, `2d ago`.
 * @example ago(1_000, 61_000) // '1m ago'
 */
export function ago(time: number | null | undefined, now: number): string {
  if (time === null || time === undefined || !Number.isFinite(time) || time <= 0) return '-';
  const s = Math.max(0, Math.round((now - time) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

/**
 * Bytes in binary units with at most one decimal: `512 MiB`, `1.5 GiB`.
 * @example bytes(16 * 1024 ** 3) // '16 GiB'
 */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1).replace(/\.0$/, '')} ${units[unit]}`;
}

/** The first 12 characters of an id, as `docker ps` shows them. */
export function shortId(id: string | null | undefined, length = 12): string {
  return id === null || id === undefined ? '-' : id.slice(0, length);
}

/**
 * The colour class of a task, node or job state: ok, busy (on its way), bad, or idle (ended).
 * @example stateTone('running') // 'ok'
 */
export function stateTone(state: string): 'ok' | 'busy' | 'bad' | 'idle' {
  const s = state.toLowerCase();
  if (['running', 'ready', 'active', 'completed', 'complete', 'done', 'succeeded'].includes(s)) return 'ok';
  if (['failed', 'rejected', 'down', 'orphaned', 'timeout', 'node_fail', 'out_of_memory', 'unreachable'].includes(s))
    return 'bad';
  if (['shutdown', 'cancelled', 'removed', 'drain', 'pause', 'preempted'].includes(s)) return 'idle';
  return 'busy';
}

/** A time as a local clock time with seconds, and the date when it is not today. */
export function clock(time: number | string, now: number): string {
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) return String(time);
  const sameDay = new Date(now).toDateString() === date.toDateString();
  const hms = date.toTimeString().slice(0, 8);
  return sameDay ? hms : `${date.toISOString().slice(0, 10)} ${hms}`;
}
