/**
 * A small, bounded request load for bench:rollout: a few workers, each sending one HTTP GET at a
 * time on a fresh connection (so every request is routed anew, as a new client's would be) with a
 * short pause between, until stopped. Counts the answers, by body (the image version), and the
 * failures (an error, a timeout or a status other than 200), keeping the first few messages.
 */
import { request } from 'node:http';

export interface LoadResult {
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  /** Answers per body (the version the task serves, e.g. `v1`). */
  readonly bodies: Readonly<Record<string, number>>;
  /** The first failures, for the report. */
  readonly errors: readonly string[];
}

export interface Load {
  /** Stop sending and wait for the requests in flight. */
  stop(): Promise<LoadResult>;
}

export interface LoadOptions {
  readonly port: number;
  readonly host?: string;
  readonly workers?: number;
  readonly pauseMs?: number;
  readonly timeoutMs?: number;
}

/** One GET: its body, or throws with the reason. */
function get(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/', method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () =>
        res.statusCode === 200 ? resolve(text.trim()) : reject(new Error(`status ${res.statusCode}`)),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Starts the load at once.
 * @example const load = startLoad({ port: 8080 }); ...; const { failed } = await load.stop();
 */
export function startLoad(options: LoadOptions): Load {
  const { port, host = '127.0.0.1', workers = 4, pauseMs = 20, timeoutMs = 3_000 } = options;
  let running = true;
  let sent = 0;
  let ok = 0;
  let failed = 0;
  const bodies: Record<string, number> = {};
  const errors: string[] = [];
  const worker = async (): Promise<void> => {
    while (running) {
      sent++;
      try {
        const body = await get(host, port, timeoutMs);
        ok++;
        bodies[body] = (bodies[body] ?? 0) + 1;
      } catch (error) {
        failed++;
        if (errors.length < 10) errors.push(error instanceof Error ? error.message : String(error));
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  };
  const done = Promise.all(Array.from({ length: workers }, worker));
  return {
    stop: async () => {
      running = false;
      await done;
      return { sent, ok, failed, bodies: { ...bodies }, errors: [...errors] };
    },
  };
}

/** Whether the port answers 200 now (one request). */
export async function answers(port: number, host = '127.0.0.1'): Promise<boolean> {
  return get(host, port, 2_000).then(
    () => true,
    () => false,
  );
}
