import {
  ConnectionLostError,
  MemberSet,
  PeerUnreachableError,
  RPC_PROTOCOL,
  encodeFrame,
  RemoteError,
  RpcErrorCode,
  RpcService,
  RpcTimeoutError,
} from '../../src/p2p/index.js';
import type { P2PHost, RpcContext } from '../../src/p2p/index.js';
import { newKey, startHost, stopAll, waitFor } from './helpers.js';
import type { TestKey } from './helpers.js';

class QuotaError extends Error {
  readonly code = 'QUOTA_EXCEEDED';
}

describe('RpcService', () => {
  let a: TestKey, b: TestKey, c: TestKey;
  let ha: P2PHost, hb: P2PHost;
  let ra: RpcService, rb: RpcService;
  const services: RpcService[] = [];
  /** Signals handed to b's slow handler, to see them abort. */
  let slowSignals: AbortSignal[];

  beforeAll(async () => {
    [a, b, c] = await Promise.all([newKey(), newKey(), newKey()]);
  });

  beforeEach(async () => {
    const gate = new MemberSet([a.id, b.id]);
    [ha, hb] = await Promise.all([startHost(a, gate), startHost(b, gate)]);
    ra = new RpcService(ha, { addressesOf: (id) => (id === b.id ? hb.multiaddrs() : []) });
    rb = new RpcService(hb);
    services.push(ra, rb);
    slowSignals = [];
    rb.handle('echo', (payload, ctx: RpcContext) => ({ payload, caller: ctx.peerId }));
    rb.handle('fail', () => {
      throw new QuotaError('quota of 3 jobs exceeded');
    });
    rb.handle('failPlain', async () => {
      throw new Error('plain failure');
    });
    rb.handle('slow', (_payload, ctx) => {
      slowSignals.push(ctx.signal);
      return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve('aborted'), { once: true }));
    });
    rb.handle('join', (payload, ctx) => ({ welcome: ctx.peerId, token: payload }), { allowNonMembers: true });
    rb.handleStream('count', async function* (payload) {
      for (let i = 0; i < (payload as number); i++) yield { i };
    });
    rb.handleStream('countThenFail', async function* () {
      yield 1;
      throw new QuotaError('no more');
    });
    rb.handleStream('forever', async function* (_payload, ctx) {
      slowSignals.push(ctx.signal);
      for (let i = 0; i < 100_000 && !ctx.signal.aborted; i++) {
        yield i;
        await new Promise((r) => setTimeout(r, 5));
      }
    });
    await Promise.all([ra.start(), rb.start()]);
  });

  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.stop()));
    await stopAll();
  });

  it('call() returns the handler result, payload bytes intact, with the authenticated caller id', async () => {
    const payload = { n: 1, bytes: new Uint8Array([1, 2, 3]), nested: [null, 'x'] };
    await expect(ra.call(b.id, 'echo', payload)).resolves.toEqual({ payload, caller: a.id });
  });

  it('call() runs many calls concurrently over one connection', async () => {
    // A cold burst: more streams than yamux's default of 10 open before the connection is ready.
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => ra.call(b.id, 'echo', i)));
    expect(results.map((r) => (r as { payload: number }).payload)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(ha.libp2p.getConnections(hb.libp2p.peerId)).toHaveLength(1);
  });

  it('call() queues calls beyond the per-peer limit instead of failing them', async () => {
    // 140 at once is past libp2p's 128 streams per protocol and connection.
    const results = await Promise.all(Array.from({ length: 140 }, (_, i) => ra.call(b.id, 'echo', i)));
    expect(results.map((r) => (r as { payload: number }).payload)).toEqual(Array.from({ length: 140 }, (_, i) => i));
  });

  it('call() throws RemoteError with the handler error code and message', async () => {
    const error = await ra.call(b.id, 'fail', null).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({ code: 'QUOTA_EXCEEDED', method: 'fail', peerId: b.id });
    expect((error as Error).message).toContain('quota of 3 jobs exceeded');
    await expect(ra.call(b.id, 'failPlain', null)).rejects.toMatchObject({ code: RpcErrorCode.HandlerError });
  });

  it('call() of an unknown method throws RemoteError UNKNOWN_METHOD', async () => {
    const error = await ra.call(b.id, 'nope', null).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({ code: RpcErrorCode.UnknownMethod });
    expect((error as Error).message).toMatch(/no rpc method named nope/);
  });

  it('call() times out with RpcTimeoutError and the remote handler sees its signal abort', async () => {
    await expect(ra.call(b.id, 'slow', null, { timeoutMs: 200 })).rejects.toThrow(RpcTimeoutError);
    await waitFor(() => slowSignals.length === 1 && slowSignals[0]!.aborted, 'remote signal aborted');
  });

  it('call() stops when the caller aborts its signal, with the signal reason', async () => {
    const controller = new AbortController();
    const call = ra.call(b.id, 'slow', null, { signal: controller.signal, timeoutMs: 20_000 });
    await waitFor(() => slowSignals.length === 1, 'handler started');
    const reason = new Error('operator pressed ctrl-c');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    await waitFor(() => slowSignals[0]!.aborted, 'remote signal aborted');
    // An already aborted signal fails at once.
    await expect(ra.call(b.id, 'echo', 1, { signal: controller.signal })).rejects.toBe(reason);
  });

  it('call() to a peer that is down throws PeerUnreachableError', async () => {
    const addrs = hb.multiaddrs();
    await rb.stop();
    await hb.stop();
    await expect(ra.call(b.id, 'echo', 1, { addresses: addrs, timeoutMs: 5000 })).rejects.toThrow(PeerUnreachableError);
  });

  it('call() whose connection breaks before the answer throws ConnectionLostError (it may have run)', async () => {
    const call = ra.call(b.id, 'slow', null, { timeoutMs: 20_000 });
    await waitFor(() => slowSignals.length === 1, 'handler started');
    // the callee drops every connection while it works, as a killed peer's kernel would
    await Promise.all(hb.libp2p.getConnections().map((c) => c.abort(new Error('peer went away'))));
    const error = await call.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionLostError);
    expect((error as Error).message).toMatch(/may or may not have run/);
  });

  it('call() from a non-member is refused with NOT_MEMBER except for methods that allow it', async () => {
    const hc = await startHost(c); // c's own gate is open, b's is not
    const rc = new RpcService(hc);
    services.push(rc);
    const addresses = hb.multiaddrs();
    await expect(rc.call(b.id, 'echo', 1, { addresses })).rejects.toMatchObject({ code: RpcErrorCode.NotMember });
    await expect(rc.call(b.id, 'join', 'secret', { addresses })).resolves.toEqual({ welcome: c.id, token: 'secret' });
  });

  it('stream() yields every item in order then ends', async () => {
    const items: unknown[] = [];
    for await (const item of ra.stream(b.id, 'count', 20)) items.push(item);
    expect(items).toEqual(Array.from({ length: 20 }, (_, i) => ({ i })));
  });

  it('stream() throws RemoteError when the handler fails mid-stream', async () => {
    const items: unknown[] = [];
    const run = async (): Promise<void> => {
      for await (const item of ra.stream(b.id, 'countThenFail', null)) items.push(item);
    };
    await expect(run()).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect(items).toEqual([1]);
  });

  it('stream() stops the remote handler when the caller breaks out', async () => {
    let seen = 0;
    for await (const _item of ra.stream(b.id, 'forever', null)) {
      if (++seen === 3) break;
    }
    expect(seen).toBe(3);
    await waitFor(() => slowSignals.length === 1 && slowSignals[0]!.aborted, 'remote signal aborted');
  });

  it('call() of a streaming method, or stream() of a unary one, says which to use', async () => {
    await expect(ra.call(b.id, 'count', 1)).rejects.toThrow(/count is a stream method; use stream\(\)/);
    const run = async (): Promise<void> => {
      for await (const _ of ra.stream(b.id, 'echo', 1)) void _;
    };
    await expect(run()).rejects.toThrow(/echo is a unary method; use call\(\)/);
  });

  it('a client that opens a stream and sends nothing is cut off', async () => {
    const hc = await startHost(c);
    const rc = new RpcService(hc, { requestReadTimeoutMs: 200 });
    services.push(rc);
    rc.handle('echo', (payload) => payload, { allowNonMembers: true });
    await rc.start();
    const stream = await ha.dialProtocol(c.id, RPC_PROTOCOL, { addresses: hc.multiaddrs() });
    await waitFor(() => stream.status === 'reset', 'server to reset the silent stream');
    await expect(ra.call(c.id, 'echo', 'still serving', { addresses: hc.multiaddrs() })).resolves.toBe('still serving');
  });

  it('a request frame of the wrong shape resets the stream', async () => {
    const stream = await ha.dialProtocol(b.id, RPC_PROTOCOL, { addresses: hb.multiaddrs() });
    stream.send(encodeFrame({ method: 42 }));
    await waitFor(() => stream.status === 'reset', 'server to reset');
    await expect(ra.call(b.id, 'echo', 1)).resolves.toMatchObject({ payload: 1 });
  });

  it('handle() refuses to register a method twice', () => {
    expect(() => rb.handle('echo', () => 1)).toThrow(/twice/);
  });
});
