/** Errors of the state domain: malformed commands and snapshots. */

/**
 * A command is malformed. The message names the command type and the field path:
 * `node.register: labels.zone: expected a string, got 3`.
 */
export class InvalidCommandError extends Error {
  override readonly name = 'InvalidCommandError';
  /** The command's `type`, when it had a known one. */
  readonly commandType: string | undefined;
  /** Dotted path of the offending field ('' for the command as a whole). */
  readonly path: string;
  /** What is wrong with that field. */
  readonly detail: string;

  constructor(commandType: string | undefined, path: string, detail: string, options?: { cause?: unknown }) {
    super(`${commandType ?? 'command'}: ${path ? `${path}: ` : ''}${detail}`, options);
    this.commandType = commandType;
    this.path = path;
    this.detail = detail;
  }
}

/** A state snapshot is malformed, of an unknown version, or for another index. */
export class InvalidSnapshotError extends Error {
  override readonly name = 'InvalidSnapshotError';
  readonly path: string;

  constructor(path: string, detail: string, options?: { cause?: unknown }) {
    super(`state snapshot: ${path ? `${path}: ` : ''}${detail}`, options);
    this.path = path;
  }
}
