/**
 * A linearizability checker for histories of a key-value store (registers per key).
 *
 * The algorithm is Wing & Gong's search with Lowe's memoization, as in Porcupine
 * (anishathalye/porcupine): the history becomes a list of call and return events in time
 * order; a depth-first search repeatedly picks a call whose operation can take effect now
 * (the model accepts it), "lifts" it out of the list, and backtracks when it meets a return
 * whose operation has not taken effect yet. A cache of (set of linearized operations, model
 * state) prunes states already explored. Keys are independent registers, so the history is
 * checked one key at a time (P-compositionality, Horn & Kroening).
 *
 * An operation that never returned (`return: null`) may or may not have taken effect: it gets
 * a return time of +infinity, so it may take effect at any point after its call, including
 * after everything else (which is the same as never).
 */

/** One client operation on a key-value register. */
export interface KvOperation {
  /** Who issued it (for messages only). */
  readonly client: string | number;
  readonly op: 'get' | 'put';
  readonly key: string;
  /** For a put: the value written. Ignored for a get. */
  readonly value?: string;
  /** Invocation time. */
  readonly call: number;
  /** Response time, or null when the client never heard back (timeout, crash). */
  readonly return: number | null;
  /**
   * For a get: the value read (null = absent). For a put: the previous value when the store
   * reports it, or undefined to not check it. Ignored when `return` is null.
   */
  readonly output?: string | null;
}

export type LinearizabilityResult =
  { readonly ok: true } | { readonly ok: false; readonly key: string; readonly explanation: string };

export interface CheckOptions {
  /** Give up after this many search steps per key (the search is exponential in the worst case). Default 5,000,000. */
  readonly maxSteps?: number;
}

/** The search exceeded its budget: the answer is unknown. */
export class LinearizabilitySearchLimitError extends Error {
  override readonly name = 'LinearizabilitySearchLimitError';
  constructor(
    readonly key: string,
    readonly steps: number,
  ) {
    super(
      `Cannot decide linearizability of key "${key}" as the search passed ${steps} steps: check a shorter history or raise maxSteps`,
    );
  }
}

/**
 * Check that a key-value history is linearizable.
 *
 * @example
 * ```ts
 * checkLinearizable([
 *   { client: 'a', op: 'put', key: 'x', value: '1', call: 0, return: 2 },
 *   { client: 'b', op: 'get', key: 'x', call: 3, return: 4, output: '1' },
 * ]); // { ok: true }
 * ```
 */
export function checkLinearizable(history: readonly KvOperation[], options: CheckOptions = {}): LinearizabilityResult {
  const byKey = new Map<string, KvOperation[]>();
  for (const op of history) {
    if (op.return !== null && op.return < op.call) {
      throw new RangeError(`Cannot check the history as an operation returns before its call: ${describe(op)}`);
    }
    let list = byKey.get(op.key);
    if (!list) byKey.set(op.key, (list = []));
    list.push(op);
  }
  for (const key of [...byKey.keys()].sort()) {
    const result = checkKey(key, byKey.get(key)!, options.maxSteps ?? 5_000_000);
    if (!result.ok) return result;
  }
  return { ok: true };
}

type State = string | null;

/** The register model: can `op` take effect in `state`, and what state follows. */
function step(state: State, op: KvOperation): { ok: boolean; next: State } {
  if (op.op === 'put') {
    const ok = op.return === null || op.output === undefined || op.output === state;
    return { ok, next: op.value ?? null };
  }
  // A get that never returned told us nothing; it never constrains the state.
  const ok = op.return === null || op.output === undefined || op.output === state;
  return { ok, next: state };
}

interface Node {
  readonly kind: 'call' | 'return';
  readonly id: number;
  readonly time: number;
  prev: Node | null;
  next: Node | null;
  /** For a call: its return node. */
  match: Node | null;
}

function buildList(ops: readonly KvOperation[]): Node {
  const events: Node[] = [];
  ops.forEach((op, id) => {
    const call: Node = { kind: 'call', id, time: op.call, prev: null, next: null, match: null };
    const ret: Node = {
      kind: 'return',
      id,
      time: op.return ?? Number.POSITIVE_INFINITY,
      prev: null,
      next: null,
      match: null,
    };
    call.match = ret;
    events.push(call, ret);
  });
  // At equal times calls sort first: the operations then overlap, which only allows more orders.
  events.sort((x, y) => x.time - y.time || (x.kind === y.kind ? x.id - y.id : x.kind === 'call' ? -1 : 1));
  const head: Node = { kind: 'call', id: -1, time: Number.NEGATIVE_INFINITY, prev: null, next: null, match: null };
  let last = head;
  for (const event of events) {
    last.next = event;
    event.prev = last;
    last = event;
  }
  return head;
}

function lift(call: Node): void {
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

function unlift(call: Node): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}

function checkKey(key: string, ops: readonly KvOperation[], maxSteps: number): LinearizabilityResult {
  const head = buildList(ops);
  const words = new Uint32Array(Math.ceil(ops.length / 32) || 1);
  const cache = new Set<string>();
  const stack: { call: Node; state: State }[] = [];
  let state: State = null;
  let entry = head.next;
  let steps = 0;
  // The deepest point reached, for the explanation.
  let best: { depth: number; order: number[]; stuck: number; state: State } = {
    depth: -1,
    order: [],
    stuck: -1,
    state: null,
  };

  while (head.next !== null) {
    if (++steps > maxSteps) throw new LinearizabilitySearchLimitError(key, maxSteps);
    if (entry === null) break; // cannot happen: the list always ends with a return
    if (entry.kind === 'call') {
      const op = ops[entry.id]!;
      const { ok, next } = step(state, op);
      if (ok) {
        words[entry.id >>> 5]! |= 1 << (entry.id & 31);
        const cacheKey = `${words.join(',')}|${next === null ? '\u0000' : `=${next}`}`;
        if (!cache.has(cacheKey)) {
          cache.add(cacheKey);
          stack.push({ call: entry, state });
          state = next;
          lift(entry);
          entry = head.next;
          continue;
        }
        words[entry.id >>> 5]! &= ~(1 << (entry.id & 31));
      }
      entry = entry.next;
    } else {
      if (stack.length > best.depth) {
        best = { depth: stack.length, order: stack.map((s) => s.call.id), stuck: entry.id, state };
      }
      const top = stack.pop();
      if (!top) return { ok: false, key, explanation: explain(key, ops, best) };
      state = top.state;
      words[top.call.id >>> 5]! &= ~(1 << (top.call.id & 31));
      unlift(top.call);
      entry = top.call.next;
    }
  }
  return { ok: true };
}

function explain(
  key: string,
  ops: readonly KvOperation[],
  best: { depth: number; order: number[]; stuck: number; state: State },
): string {
  const stuck = ops[best.stuck]!;
  const tail = best.order.slice(-5).map((id) => `  ${describe(ops[id]!)}`);
  return [
    `key "${key}": no linearization of its ${ops.length} operations exists.`,
    `The longest linearizable prefix has ${best.depth} operations; then this operation returned without any order letting it take effect:`,
    `  ${describe(stuck)}`,
    `(the register held ${best.state === null ? 'nothing' : JSON.stringify(best.state)} at that point). Last operations of that prefix:`,
    ...(tail.length > 0 ? tail : ['  (none)']),
  ].join('\n');
}

/** A one-line description of an operation, for messages. */
export function describe(op: KvOperation): string {
  const span = `[${op.call}, ${op.return ?? 'never returned'}]`;
  const out = op.output === undefined ? '' : ` -> ${op.output === null ? 'nothing' : JSON.stringify(op.output)}`;
  return op.op === 'put'
    ? `client ${op.client} put(${op.key}, ${JSON.stringify(op.value ?? null)})${out} ${span}`
    : `client ${op.client} get(${op.key})${out} ${span}`;
}
