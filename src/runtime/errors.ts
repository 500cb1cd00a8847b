/**
 * Errors of the node runtime. A driver throws {@link TaskRejectedError} (or a subclass) when the
 * node cannot run a task at all; the runtime turns it into a `rejected` report with the message.
 *
 * @module
 */

/** The node cannot run this task (missing image, port taken, invalid spec): report `rejected`. */
export class TaskRejectedError extends Error {
  override readonly name: string = 'TaskRejectedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The image is not on this node and could not be pulled. */
export class ImageMissingError extends TaskRejectedError {
  override readonly name = 'ImageMissingError';
  constructor(
    readonly image: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `image "${image}" is not on this node and could not be pulled (${detail}): ` +
        'load it with docker load or push it to a registry the node can reach',
      options,
    );
  }
}

/** A published host port is already taken on this node. */
export class PortConflictError extends TaskRejectedError {
  override readonly name = 'PortConflictError';
}

/** The container engine cannot be reached. */
export class EngineUnavailableError extends Error {
  override readonly name = 'EngineUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** No container of this node runs the task (logs asked for an unknown or removed task). */
export class NoContainerError extends Error {
  override readonly name = 'NoContainerError';
  constructor(readonly taskId: string) {
    super(`Cannot read logs of task ${taskId}: this node has no container for it (not assigned here, or removed)`);
  }
}

/** The message of an unknown thrown value. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
