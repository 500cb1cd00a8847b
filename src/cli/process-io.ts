/**
 * The process's own output for `runCli`: fast synchronous writes for short texts, and a quiet
 * exit when the reader goes away (`shoal queue | head -1`), as other command-line tools do.
 * @module
 */
import { writeSync } from 'node:fs';
import type { CliOutput } from './command.js';
import type { CliIo } from './main.js';

/** Texts up to this size go straight to the file descriptor; longer ones through the stream. */
const SYNC_WRITE_LIMIT = 16 * 1024;

/** A stream `fdOutput` may open: `process.stdout` or `process.stderr` (`on` to hear of EPIPE). */
export interface OutputStream extends CliOutput {
  on?(event: 'error', listener: (error: NodeJS.ErrnoException) => void): unknown;
}

/**
 * An output on a file descriptor that writes short texts with one `writeSync` and makes the stream
 * (`process.stdout`/`stderr`) only when a text is long or the descriptor would block. Creating
 * those streams costs 3 to 6 ms (the stream, net or tty modules), a tenth of a `job submit` call
 * that prints one line. Once the stream exists every write goes through it, so order is kept.
 *
 * When the reader has closed the pipe (EPIPE), nothing more is written and `onClosed` is called
 * once: the output is no longer wanted, which is no error to report.
 * @example runCli(argv, { env: process.env, stdout: fdOutput(1, () => process.stdout, () => process.exit(0)), stderr: fdOutput(2, () => process.stderr) })
 */
export function fdOutput(fd: number, stream: () => OutputStream, onClosed: () => void = () => {}): CliOutput {
  let opened: OutputStream | undefined;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    onClosed();
  };
  return {
    write(text: string) {
      if (closed) return true;
      if (opened === undefined && text.length <= SYNC_WRITE_LIMIT) {
        const bytes = Buffer.from(text, 'utf8');
        let done = 0;
        try {
          while (done < bytes.length) done += writeSync(fd, bytes, done);
          return true;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EPIPE') {
            close();
            return true;
          }
          // EAGAIN (a non-blocking pipe is full), …: the stream deals with them as node always does.
          text = bytes.subarray(done).toString('utf8');
        }
      }
      if (opened === undefined) {
        opened = stream();
        opened.on?.('error', (error) => {
          if (error.code === 'EPIPE') close();
          else throw error;
        });
      }
      return opened.write(text);
    },
  };
}

/** The process's own output for `runCli`: see {@link fdOutput}. A closed stdout ends the process with 0. */
export function processIo(): CliIo {
  return {
    env: process.env,
    stdout: fdOutput(
      1,
      () => process.stdout,
      () => process.exit(0),
    ),
    stderr: fdOutput(2, () => process.stderr),
  };
}
