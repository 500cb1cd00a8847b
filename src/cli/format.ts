/**
 * Human output: aligned tables like `docker node ls`, shortened peer ids, sizes.
 * @module
 */

/** How many characters of a peer id a table shows. Ed25519 peer ids all start with `12D3KooW`, so a
 * docker-style 12 would leave 4 telling characters; 16 leaves 8 (about 46 bits). */
export const SHORT_ID_LENGTH = 16;

/**
 * A peer id shortened for tables; a unique prefix is accepted wherever the CLI takes an id.
 * @example shortId('12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo') // "12D3KooWQYhTNQdm"
 */
export function shortId(id: string, noTrunc = false): string {
  return noTrunc || id.length <= SHORT_ID_LENGTH ? id : id.slice(0, SHORT_ID_LENGTH);
}

/**
 * A node for a table cell: its hostname with enough of its id to tell apart several agents on
 * one machine (they share the hostname), or the id alone when the hostname is unknown.
 * @example nodeCell('lab1', '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo') // "lab1 (12D3KooWQYhTNQdm)"
 */
/**
 * An image in a table: a pinned reference shows as its tag (`app:v1@sha256:…` → `app:v1`), as
 * `docker service ls` does; `inspect`, `-o json` and `--no-trunc` show the digest.
 */
export function imageCell(image: string, noTrunc = false): string {
  return noTrunc ? image : image.replace(/@sha256:[0-9a-f]{64}$/, '');
}

export function nodeCell(hostname: string | null, id: string | null, noTrunc = false): string {
  if (id === null) return hostname ?? '';
  return hostname === null || hostname === '' ? shortId(id, noTrunc) : `${hostname} (${shortId(id, noTrunc)})`;
}

/** Three spaces between columns, as docker's tables do. */
const GAP = '   ';

/**
 * Render rows under headers with aligned columns (no trailing spaces).
 * @example renderTable(['ID', 'NAME'], [['a', 'alpha']]) // "ID   NAME\na    alpha\n"
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join(GAP)
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/**
 * Aligned `Key: value` lines.
 * @example renderFields([['Term', '3'], ['Leader', 'x']]) // "Term:     3\nLeader:   x\n"
 */
export function renderFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(...fields.map(([key]) => key.length + 1));
  return fields.map(([key, value]) => `${(key + ':').padEnd(width)}   ${value}`.trimEnd()).join('\n') + '\n';
}

/**
 * Bytes in binary units with one decimal, as people read memory sizes.
 * @example formatBytes(17179869184) // "16.0GiB"
 */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value}B` : `${value.toFixed(1)}${units[unit]}`;
}

/** First letter upper case: table cells read like docker's (`Ready`, `Active`). */
export function capitalize(word: string): string {
  return word.length === 0 ? word : word[0]!.toUpperCase() + word.slice(1);
}

/** A value that may be unknown (null), for a table cell. */
export function orDash(value: string | number | null | undefined): string {
  return value === null || value === undefined || value === '' ? '-' : String(value);
}

/** JSON as `-o json` prints it: two-space indent, trailing newline. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/**
 * A duration as people say it, the way docker's tables do (go-units' HumanDuration).
 * @example humanDuration(125_000) // "2 minutes"
 */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/**
 * How long ago `time` was, for a table cell; a time in the future (clock skew between nodes)
 * reads as "Less than a second ago" rather than a negative age.
 * @example ago(now - 120_000, now) // "2 minutes ago"
 */
export function ago(time: number, now: number): string {
  return `${humanDuration(Math.max(0, now - time))} ago`;
}

/** Ids of tasks are shortened to docker's 12 characters in tables. */
export const SHORT_TASK_ID_LENGTH = 12;

/**
 * A duration as squeue prints TIME: `M:SS`, `H:MM:SS`, `D-HH:MM:SS` (sacct's form is {@link sacctDuration}).
 * @example slurmDuration(3_723_000) // "1:02:03"
 */
export function slurmDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  if (days > 0) return `${days}-${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}:${seconds}`;
  if (hours > 0) return `${hours}:${String(minutes).padStart(2, '0')}:${seconds}`;
  return `${minutes}:${seconds}`;
}

/**
 * A duration as sacct prints ELAPSED and CPUTIME (and scontrol RunTime): `HH:MM:SS`, with
 * `D-` in front from one day on; a negative duration (clock skew) is `00:00:00`.
 * @example sacctDuration(3_000) // "00:00:03"
 * @example sacctDuration(93_784_000) // "1-02:03:04"
 */
export function sacctDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(total / 86_400);
  const two = (n: number) => String(n).padStart(2, '0');
  const clock = `${two(Math.floor((total % 86_400) / 3600))}:${two(Math.floor((total % 3600) / 60))}:${two(total % 60)}`;
  return days > 0 ? `${days}-${clock}` : clock;
}

/**
 * A time as sacct prints it: local `YYYY-MM-DDTHH:MM:SS`; unknown (null) is `Unknown`.
 * @example slurmTime(Date.UTC(2024, 4, 1, 10)) // "2024-05-01T10:00:00" (TZ=UTC)
 */
export function slurmTime(ms: number | null): string {
  if (ms === null) return 'Unknown';
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}` +
    `T${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`
  );
}
