/** Shared fixtures of the p2p tests: keys, hosts on 127.0.0.1, sample messages, a log sink. */
import { Writable } from 'node:stream';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { PrivateKey } from '@libp2p/interface';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { createHost } from '../../src/p2p/index.js';
import type { MemberGate, P2PHost } from '../../src/p2p/index.js';
import { EntryType } from '../../src/raft/types.js';
import type { Message } from '../../src/raft/types.js';

export interface TestKey {
  readonly privateKey: PrivateKey;
  readonly id: string;
}

export async function newKey(): Promise<TestKey> {
  const privateKey = await generateKeyPair('Ed25519');
  return { privateKey, id: peerIdFromPrivateKey(privateKey).toString() };
}

/** A pino logger whose records land in `records` (parsed JSON), to assert what was logged. */
export function captureLogger(): { logger: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') records.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), records };
}

/** Hosts created through `startHost`, stopped by `stopAll` in afterEach. */
const running = new Set<P2PHost>();

export async function startHost(key: TestKey, gate?: MemberGate, logger?: Logger): Promise<P2PHost> {
  const host = await createHost({
    privateKey: key.privateKey,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    ...(gate === undefined ? {} : { gate }),
    ...(logger === undefined ? {} : { logger }),
  });
  running.add(host);
  return host;
}

export async function stopAll(): Promise<void> {
  const hosts = [...running];
  running.clear();
  // Both ends closing gracefully at once makes libp2p wait ~500 ms for a write queue that
  // never drains; tests do not need the graceful part, so cut the connections first.
  for (const h of hosts) for (const conn of h.libp2p.getConnections()) conn.abort(new Error('test over'));
  await Promise.all(hosts.map((h) => h.stop()));
}

/** Poll `predicate` every 10 ms until true; fails after `limitMs` (a safety net, not a timing assertion). */
export async function waitFor(predicate: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

/** One message of every type in `src/raft/types.ts`, from `from` to `to`. */
export function sampleMessages(from: string, to: string): Message[] {
  const conf = { voters: [from, to], learners: ['learner-1'] };
  return [
    { type: 'vote', from, to, term: 3, preVote: true, lastLogIndex: 10, lastLogTerm: 2, transfer: false },
    { type: 'voteResp', from, to, term: 3, preVote: false, granted: true },
    {
      type: 'append',
      from,
      to,
      term: 4,
      prevLogIndex: 10,
      prevLogTerm: 3,
      entries: [
        { index: 11, term: 4, type: EntryType.Normal, data: bytes(1, 2, 3) },
        { index: 12, term: 4, type: EntryType.ConfChange, data: bytes(9) },
        { index: 13, term: 4, type: EntryType.Noop, data: bytes() },
      ],
      commit: 10,
    },
    { type: 'appendResp', from, to, term: 4, success: false, index: 10, hintIndex: 7, hintTerm: 2 },
    { type: 'heartbeat', from, to, term: 4, commit: 12, context: bytes(7, 7) },
    { type: 'heartbeat', from, to, term: 4, commit: 12 },
    { type: 'heartbeatResp', from, to, term: 4, context: bytes(7, 7) },
    { type: 'heartbeatResp', from, to, term: 4 },
    {
      type: 'snapshot',
      from,
      to,
      term: 5,
      meta: { index: 100, term: 4, conf },
      offset: 262144,
      chunk: bytes(0, 255, 128),
      done: true,
    },
    {
      type: 'snapshotResp',
      from,
      to,
      term: 5,
      meta: { index: 100, term: 4 },
      received: 262147,
      done: true,
      reject: false,
    },
    { type: 'timeoutNow', from, to, term: 5 },
    { type: 'readIndex', from, to, term: 5, context: bytes(1) },
    { type: 'readIndexResp', from, to, term: 5, context: bytes(1), index: -1 },
  ];
}
