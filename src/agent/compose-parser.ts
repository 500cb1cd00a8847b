/**
 * Parses Compose files off the main thread. A 4 MiB file takes the parser seconds; on the main
 * thread that is seconds without Raft heartbeats, and another node wins the election. Here one
 * `worker_threads` Worker, started on the first deploy, parses one file at a time; it is stopped
 * after a parse that runs too long (the deploy fails with {@link ComposeParseTimeoutError}) and
 * after a while without work, so the memory a large file took goes back to the system with the
 * worker's heap.
 *
 * Where the worker's code comes from. The worker runs this very module, which starts serving
 * when it finds itself in a worker with `workerData.role === 'compose-parser'` (see the end of
 * the file). One module, three ways it is loaded:
 * - bundled (build/agent.cjs, what `shoal agent` runs): `import.meta.url` is the bundle, so the
 *   worker loads the same file;
 * - the single executable: the bundle is an embedded asset, not a file, so the worker evaluates
 *   its text (`eval: true`; built-ins are all it requires);
 * - from source (tsx, jest): the module is TypeScript, so the worker loads it with tsx's loader
 *   (a dev dependency, present wherever the source runs).
 * A separate worker bundle would start faster but is a second artifact for build.sh, the
 * executable and the tests to agree on; the agent bundle costs a few tens of ms once per worker.
 *
 * @module
 */
import { createRequire } from 'node:module';
import * as sea from 'node:sea';
import { isMainThread, parentPort, Worker, workerData, type WorkerOptions } from 'node:worker_threads';
import { posix } from 'node:path';
import { parseStack, type ParseStackResult } from '../stack/index.js';

/** A Compose file to parse, as the admin API received it. */
export interface ComposeParseRequest {
  /** The file's text. */
  readonly compose: string;
  /** File name for messages, and the directory `env_file` paths are relative to. */
  readonly file: string;
  /** Stack name (`--name`), if given. */
  readonly name?: string;
  /** Variables for interpolation. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Files the request carries (`env_file`s), by path relative to the file's directory. */
  readonly files?: Readonly<Record<string, string>>;
}

/** Options of {@link ComposeParser}. */
export interface ComposeParserInit {
  /** Longest a parse may take before the worker is stopped. Default 10 s. */
  readonly timeoutMs?: number;
  /** How long an idle worker is kept for the next deploy. Default 30 s. */
  readonly idleMs?: number;
}

/** A parse ran past its time bound; the worker was stopped. */
export class ComposeParseTimeoutError extends Error {
  override readonly name = 'ComposeParseTimeoutError';
  constructor(file: string, timeoutMs: number) {
    super(
      `Cannot parse ${file} as it took longer than ${timeoutMs / 1000} s: the file is too large or too complex; split it into several stacks`,
    );
  }
}

const ROLE = 'compose-parser';

/**
 * Parses a request exactly as the agent did on its main thread: `env_file`s come from the
 * request's `files`. Runs in the worker; exported for tests.
 */
export function parseComposeRequest(request: ComposeParseRequest): ParseStackResult {
  const dir = posix.dirname(request.file);
  return parseStack(request.compose, {
    file: request.file,
    name: request.name,
    env: request.env ?? {},
    readFile: (path) => {
      const relative = posix.relative(dir, path);
      const text = request.files?.[relative] ?? request.files?.[path];
      if (text === undefined) throw new Error(`${relative} was not sent with the request`);
      return text;
    },
  });
}

/**
 * A pool of one parser worker, started lazily and reused.
 *
 * @example
 * ```ts
 * const parser = new ComposeParser();
 * const r = await parser.parse({ compose: 'services:\n  web:\n    image: nginx\n', file: 'compose.yml', name: 'web' });
 * await parser.stop();
 * ```
 */
export class ComposeParser {
  readonly #timeoutMs: number;
  readonly #idleMs: number;
  #worker: Worker | undefined;
  #idle: NodeJS.Timeout | undefined;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(init: ComposeParserInit = {}) {
    this.#timeoutMs = init.timeoutMs ?? 10_000;
    this.#idleMs = init.idleMs ?? 30_000;
  }

  /** Whether a worker is running (for tests: it goes away when idle). */
  get running(): boolean {
    return this.#worker !== undefined;
  }

  /** Parses and validates a Compose file in the worker; one file at a time, in call order. */
  parse(request: ComposeParseRequest, options: { signal?: AbortSignal } = {}): Promise<ParseStackResult> {
    const run = this.#tail.then(() => this.#run(request, options.signal));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** Stops the worker, if any. Idempotent; a later parse starts a new one. */
  async stop(): Promise<void> {
    clearTimeout(this.#idle);
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker) await worker.terminate();
  }

  #run(request: ComposeParseRequest, signal: AbortSignal | undefined): Promise<ParseStackResult> {
    signal?.throwIfAborted();
    clearTimeout(this.#idle);
    const worker = (this.#worker ??= startWorker());
    worker.ref();
    return new Promise<ParseStackResult>((resolve, reject) => {
      const timer = setTimeout(
        () => fail(new ComposeParseTimeoutError(request.file, this.#timeoutMs)),
        this.#timeoutMs,
      );
      const onMessage = (result: ParseStackResult) => settle(() => resolve(result), false);
      const onError = (error: Error) =>
        fail(new Error(`Cannot parse ${request.file}: ${error.message}`, { cause: error }));
      const onExit = (code: number) =>
        fail(new Error(`Cannot parse ${request.file}: the parser exited (code ${code})`));
      const onAbort = () => fail(signal!.reason);
      const fail = (error: unknown) => settle(() => reject(error), true);
      const settle = (done: () => void, broken: boolean) => {
        clearTimeout(timer);
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        signal?.removeEventListener('abort', onAbort);
        if (broken) {
          // A worker stopped mid-parse may still be busy: never reuse it.
          if (this.#worker === worker) this.#worker = undefined;
          void worker.terminate();
        } else this.#parkIdle(worker);
        done();
      };
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.postMessage(request);
    });
  }

  #parkIdle(worker: Worker): void {
    worker.unref();
    this.#idle = setTimeout(() => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      void worker.terminate();
    }, this.#idleMs);
    this.#idle.unref();
  }
}

let shared: ComposeParser | undefined;

/** The agent's parser: one per process, whatever the number of agents and services in it. */
export function sharedComposeParser(): ComposeParser {
  return (shared ??= new ComposeParser());
}

function startWorker(): Worker {
  const data = { role: ROLE };
  if (sea.isSea()) return new Worker(sea.getAsset('agent.cjs', 'utf8'), { eval: true, workerData: data });
  const self = new URL(import.meta.url);
  const options: WorkerOptions = { workerData: data };
  if (self.pathname.endsWith('.ts') && !process.execArgv.some((a) => a.includes('tsx'))) {
    const tsx = createRequire(import.meta.url).resolve('tsx/esm');
    options.execArgv = [...process.execArgv, '--import', tsx];
  }
  return new Worker(self, options);
}

function serve(): void {
  parentPort!.on('message', (request: ComposeParseRequest) => {
    parentPort!.postMessage(parseComposeRequest(request));
  });
}

if (!isMainThread && (workerData as { role?: unknown } | null)?.role === ROLE) serve();
