/**
 * Pulling an image through the Docker Engine: bounded by a stall timeout (no progress from the
 * engine for `stallMs`) rather than a total one, so a large image on a slow link gets through and
 * a registry that stops sending does not hold the task forever; progress reported as "pulling
 * 45 %" at most every `progressEveryMs`; the registry credentials, when given, sent in the
 * engine's `X-Registry-Auth` header only.
 *
 * @module
 */
import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import type { RegistryCredential } from './registry-digest.js';

/** Options of {@link pullImage}. */
export interface PullOptions {
  /** Give up when the engine reports nothing for this long. Default 60 s. */
  readonly stallMs?: number;
  /** Called with "pulling 45 %" (rate-limited). */
  readonly onProgress?: (message: string) => void;
  /** At most one progress call this often. Default 2 s. */
  readonly progressEveryMs?: number;
  readonly credential?: RegistryCredential | null;
  readonly signal?: AbortSignal;
  /** Default `Date.now`. */
  readonly now?: () => number;
}

/** The pull ended without the image: a stall, the engine's error, or an abort. */
export class PullFailedError extends Error {
  override readonly name = 'PullFailedError';
}

interface ProgressEvent {
  readonly id?: string;
  readonly status?: string;
  readonly error?: string;
  readonly errorDetail?: { readonly message?: string };
  readonly progressDetail?: { readonly current?: number; readonly total?: number };
}

/**
 * Pulls `image` (`name@sha256:…` or `name:tag`) and resolves once the engine has it.
 * @throws {PullFailedError} saying why.
 * @example await pullImage(docker, 'registry.example/app@sha256:…', { stallMs: 60_000, onProgress: console.log });
 */
export async function pullImage(docker: Docker, image: string, options: PullOptions = {}): Promise<void> {
  const stallMs = options.stallMs ?? 60_000;
  const abort = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, abort.signal]) : abort.signal;
  const progress = new PullProgress(options);
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      abort.abort();
    }, stallMs);
  };
  arm();
  const why = (error: unknown) =>
    stalled
      ? `pull stalled: no progress for ${Math.round(stallMs / 1000)} s`
      : `pull failed: ${(error as Error | null)?.message ?? String(error)}`;
  try {
    const auth = options.credential
      ? { username: options.credential.username, password: options.credential.password }
      : undefined;
    const stream = (await docker.pull(image, {
      abortSignal: signal,
      ...(auth ? { authconfig: auth } : {}),
    })) as Readable;
    await new Promise<void>((resolve, reject) => {
      let rest = '';
      let failure: string | null = null;
      const onAbort = () => stream.destroy(new PullFailedError(why(signal.reason)));
      signal.addEventListener('abort', onAbort, { once: true });
      const done = (error: Error | null) => {
        signal.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else if (failure !== null) reject(new PullFailedError(`pull failed: ${failure}`));
        else resolve();
      };
      stream.on('data', (chunk: Buffer) => {
        arm();
        const lines = (rest + chunk.toString('utf8')).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          if (line.trim() === '') continue;
          let event: ProgressEvent;
          try {
            event = JSON.parse(line) as ProgressEvent;
          } catch {
            continue;
          }
          if (event.error) failure = event.errorDetail?.message ?? event.error;
          else progress.add(event);
        }
      });
      stream.once('end', () => done(null));
      stream.once('error', (error) => done(error));
      stream.once('close', () => done(signal.aborted ? new PullFailedError(why(signal.reason)) : null));
    });
  } catch (error) {
    if (error instanceof PullFailedError) throw error;
    throw new PullFailedError(why(error), { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/** Sums the engine's per-layer progress into one percentage, reported at most every so often. */
export class PullProgress {
  readonly #layers = new Map<string, { current: number; total: number }>();
  readonly #every: number;
  readonly #now: () => number;
  readonly #report: ((message: string) => void) | undefined;
  #lastAt = -Infinity;
  #last = '';

  constructor(options: Pick<PullOptions, 'onProgress' | 'progressEveryMs' | 'now'>) {
    this.#every = options.progressEveryMs ?? 2_000;
    this.#now = options.now ?? Date.now;
    this.#report = options.onProgress;
  }

  /** Takes one event of the engine's pull stream. */
  add(event: ProgressEvent): void {
    const id = event.id;
    if (id === undefined) return;
    const detail = event.progressDetail;
    const layer = this.#layers.get(id) ?? { current: 0, total: 0 };
    if (event.status === 'Downloading' && detail?.total) {
      layer.total = detail.total;
      layer.current = detail.current ?? layer.current;
    } else if (event.status === 'Download complete' || event.status === 'Already exists') {
      layer.current = layer.total;
    } else if (!this.#layers.has(id) && event.status !== 'Pulling fs layer' && event.status !== 'Waiting') {
      return; // not a layer line ("Pulling from …", "Digest: …")
    }
    this.#layers.set(id, layer);
    this.#maybeReport();
  }

  /** The share downloaded of the layers whose size is known, 0 to 100. */
  percent(): number {
    let current = 0;
    let total = 0;
    for (const l of this.#layers.values()) {
      current += Math.min(l.current, l.total);
      total += l.total;
    }
    return total === 0 ? 0 : Math.floor((current * 100) / total);
  }

  #maybeReport(): void {
    if (!this.#report) return;
    const now = this.#now();
    const message = `pulling ${this.percent()} %`;
    if (message === this.#last || now - this.#lastAt < this.#every) return;
    this.#lastAt = now;
    this.#last = message;
    this.#report(message);
  }
}
