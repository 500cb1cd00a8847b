/**
 * Newline-delimited JSON from a byte stream, as the admin API streams events and logs: chunks
 * break anywhere, so a partial last line waits for the next chunk.
 * @module
 */

/** A line of the stream that is not JSON (the stream is not the admin API's, or it broke). */
export class NdjsonError extends Error {
  override readonly name = 'NdjsonError';
}

/** Splits chunks into parsed lines. */
export class NdjsonSplitter {
  readonly #decoder = new TextDecoder();
  #rest = '';

  /**
   * The values of the lines completed by `chunk`.
   * @example new NdjsonSplitter().push(new TextEncoder().encode('{"a":1}\n{"b"')) // [{ a: 1 }]
   */
  push(chunk: Uint8Array): unknown[] {
    this.#rest += this.#decoder.decode(chunk, { stream: true });
    const lines = this.#rest.split('\n');
    this.#rest = lines.pop() ?? '';
    return lines.filter((line) => line.trim() !== '').map(parseLine);
  }

  /** The last line, when the stream ended without a newline after it. */
  end(): unknown[] {
    const last = this.#rest + this.#decoder.decode();
    this.#rest = '';
    return last.trim() === '' ? [] : [parseLine(last)];
  }
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new NdjsonError(`Cannot read the stream: a line is not JSON: ${JSON.stringify(line.slice(0, 80))}`);
  }
}

/** The `{ error: { code, message } }` line that ends a stream that failed after it started. */
export function streamError(value: unknown): { code: string; message: string } | undefined {
  if (typeof value !== 'object' || value === null || !('error' in value)) return undefined;
  const error = (value as { error: unknown }).error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return { code: String(code ?? 'internal'), message: String(message ?? 'the stream failed') };
}
