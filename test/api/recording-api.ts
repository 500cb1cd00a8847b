/**
 * A real agent's admin API with a recorder in front, for the server and CLI tests: it writes
 * down each call (its method, the arguments the route parsed, its abort signal), and can make the
 * next call fail, the next stream fail midway, or every call wait for its signal, which a healthy
 * agent does not do on demand.
 * Every answer otherwise comes from the agent.
 */
import type { BatchApi } from '../../src/api/job-types.js';
import type { ClusterApi, WorkloadApi } from '../../src/api/types.js';

export type AgentApi = ClusterApi & WorkloadApi & BatchApi;

/** A call the API received, for assertions. */
export interface RecordedCall {
  readonly method: keyof AgentApi;
  readonly args: unknown[];
  readonly signal?: AbortSignal;
}

export class RecordingApi {
  readonly calls: RecordedCall[] = [];
  /** When set, the next call throws it. */
  failNext: unknown;
  /** When true, every call waits until its signal aborts (to test client disconnects). */
  hang = false;
  /** When set, the next stream throws `error` once it has passed on `after` items (a node lost midway). */
  failStreamNext: { readonly after: number; readonly error: unknown } | undefined;
  /** The recorded API to serve. */
  readonly api: AgentApi;

  constructor(real: AgentApi) {
    const enter = (method: keyof AgentApi, args: unknown[], signal?: AbortSignal) => this.#enter(method, args, signal);
    this.api = {
      ...real,
      status: async (o) => (await enter('status', [o?.consistency], o?.signal), real.status(o)),
      listNodes: async (o) => (await enter('listNodes', [o?.consistency], o?.signal), real.listNodes(o)),
      init: async (r, o) => (await enter('init', [r], o?.signal), real.init(r, o)),
      join: async (r, o) => (await enter('join', [r], o?.signal), real.join(r, o)),
      removeNode: async (id, o) => (await enter('removeNode', [id, o?.force], o?.signal), real.removeNode(id, o)),
      rotateToken: async (o) => (await enter('rotateToken', [], o?.signal), real.rotateToken(o)),
      showToken: async (o) => (await enter('showToken', [o?.consistency], o?.signal), real.showToken(o)),
      transferLeader: async (to, o) => (await enter('transferLeader', [to], o?.signal), real.transferLeader(to, o)),
      deployStack: async (r, o) => (await enter('deployStack', [r], o?.signal), real.deployStack(r, o)),
      listStacks: async (o) => (await enter('listStacks', [o?.consistency], o?.signal), real.listStacks(o)),
      removeStack: async (n, o) => (await enter('removeStack', [n], o?.signal), real.removeStack(n, o)),
      stackTasks: async (n, o) => (await enter('stackTasks', [n, o?.all === true], o?.signal), real.stackTasks(n, o)),
      listServices: async (o) => (await enter('listServices', [o?.stack], o?.signal), real.listServices(o)),
      inspectService: async (id, o) => (await enter('inspectService', [id], o?.signal), real.inspectService(id, o)),
      serviceTasks: async (id, o) => (
        await enter('serviceTasks', [id, o?.all === true], o?.signal),
        real.serviceTasks(id, o)
      ),
      scaleService: async (id, n, o) => (await enter('scaleService', [id, n], o?.signal), real.scaleService(id, n, o)),
      serviceLogs: (r, o) =>
        recorded(enter('serviceLogs', [r], o?.signal), () => this.#failing(real.serviceLogs(r, o))),
      setNodeAvailability: async (id, a, o) => (
        await enter('setNodeAvailability', [id, a], o?.signal),
        real.setNodeAvailability(id, a, o)
      ),
      updateNodeLabels: async (id, c, o) => (
        await enter('updateNodeLabels', [id, c], o?.signal),
        real.updateNodeLabels(id, c, o)
      ),
    };
  }

  async #enter(method: keyof AgentApi, args: unknown[], signal?: AbortSignal): Promise<void> {
    this.calls.push({ method, args, signal });
    if (this.failNext !== undefined) {
      const error = this.failNext;
      this.failNext = undefined;
      throw error;
    }
    if (this.hang) {
      await new Promise<void>((_, reject) => {
        if (!signal) return; // without a signal it would hang forever: tests always pass one through HTTP
        if (signal.aborted) return reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
  }

  /** `stream`, failing midway if {@link failStreamNext} says so. */
  #failing<T>(stream: AsyncIterable<T>): AsyncIterable<T> {
    const failure = this.failStreamNext;
    this.failStreamNext = undefined;
    return failure === undefined ? stream : failAfter(stream, failure.after, failure.error);
  }
}

/** A stream that starts once `entered` resolves (and fails with it). */
async function* recorded<T>(entered: Promise<void>, open: () => AsyncIterable<T>): AsyncIterable<T> {
  await entered;
  yield* open();
}

/** Pass on `after` items of `stream`, then throw `error`. */
async function* failAfter<T>(stream: AsyncIterable<T>, after: number, error: unknown): AsyncIterable<T> {
  let passed = 0;
  if (after > 0) {
    for await (const item of stream) {
      yield item;
      if (++passed >= after) break;
    }
  }
  throw error;
}
