/**
 * The named errors of the service mesh. Callers branch on the class (or on `code` for refusals
 * that crossed the wire), never on message text.
 */

/** Why a node refused a mesh stream; travels in the refusal frame. */
export type MeshRefusalCode = 'unknown-task' | 'not-ready' | 'unreachable' | 'bad-request';

/** The task's node refused to connect a mesh stream to it (the dialer may try another task). */
export class MeshRefusedError extends Error {
  override readonly name = 'MeshRefusedError';
  readonly nodeId: string;
  readonly taskId: string;
  readonly code: MeshRefusalCode;
  constructor(nodeId: string, taskId: string, code: MeshRefusalCode, reason: string) {
    super(`Cannot reach task ${taskId} on node ${nodeId} as the node refused (${code}): ${reason}`);
    this.nodeId = nodeId;
    this.taskId = taskId;
    this.code = code;
  }
}

/** Bytes on a mesh stream that are not a well-formed header or reply. */
export class MeshProtocolError extends Error {
  override readonly name = 'MeshProtocolError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A command that configures the node (`ip ...`) failed. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  readonly command: string;
  readonly args: readonly string[];
  readonly code: number | null;
  readonly stderr: string;
  constructor(command: string, args: readonly string[], code: number | null, stderr: string) {
    const line = [command, ...args].join(' ');
    super(
      `Cannot configure the node as \`${line}\` failed (exit ${code ?? 'signal'}): ${stderr.trim() || 'no output'}`,
    );
    this.command = command;
    this.args = args;
    this.code = code;
    this.stderr = stderr;
  }
}
