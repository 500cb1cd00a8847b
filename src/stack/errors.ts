/**
 * Errors found in a stack file. Parsing never throws on bad input: it returns
 * every {@link StackError} at once, so a user fixes a file in one pass.
 */

/** One problem in a stack file, located by file, line, column and key path. */
export interface StackError {
  /** The file name as given to `parseStack` (for example `compose.yml`). */
  readonly file: string;
  /** 1-based line, or 0 when the problem has no position (an option, a missing file). */
  readonly line: number;
  /** 1-based column, or 0 when unknown. */
  readonly column: number;
  /** Dotted key path such as `services.api.deploy.replicas` or `services.api.ports[1]`; empty for the whole file. */
  readonly path: string;
  /** What is wrong and, where it helps, what to do. */
  readonly message: string;
}

/**
 * Formats an error the way the CLI prints it.
 *
 * @example
 * ```ts
 * formatStackError({ file: 'compose.yml', line: 14, column: 15, path: 'services.api.deploy.replicas',
 *   message: 'expected an integer >= 0, got "three"' });
 * // 'compose.yml:14 services.api.deploy.replicas: expected an integer >= 0, got "three"'
 * ```
 */
export function formatStackError(e: StackError): string {
  const where = e.line > 0 ? `${e.file}:${e.line}` : e.file;
  return e.path === '' ? `${where}: ${e.message}` : `${where} ${e.path}: ${e.message}`;
}

/**
 * Why a stack file was refused: every error, then the warnings (an unset variable is often what
 * caused an error), each on its own line.
 *
 * @example
 * ```ts
 * describeRefusal('web', errors, warnings);
 * // 'stack web: 1 error(s), nothing deployed:\ncompose.yml:5 ...\n1 warning(s):\nWARNING: compose.yml:5 ...'
 * ```
 */
export function describeRefusal(stack: string, errors: readonly StackError[], warnings: readonly StackError[]): string {
  const lines = [`stack ${stack}: ${errors.length} error(s), nothing deployed:`, ...errors.map(formatStackError)];
  if (warnings.length > 0)
    lines.push(`${warnings.length} warning(s):`, ...warnings.map((w) => `WARNING: ${formatStackError(w)}`));
  return lines.join('\n');
}

/** Thrown by {@link parseStackOrThrow} when a stack file is invalid; carries every error. */
export class StackValidationError extends Error {
  override readonly name = 'StackValidationError';
  readonly errors: readonly StackError[];

  constructor(errors: readonly StackError[]) {
    const n = errors.length;
    super(`Cannot parse stack: ${n} error${n === 1 ? '' : 's'}\n` + errors.map(formatStackError).join('\n'));
    this.errors = errors;
  }
}

/** Describes a value for an error message: strings quoted, collections named. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Map || typeof v === 'object') return 'a mapping';
  return String(v);
}
