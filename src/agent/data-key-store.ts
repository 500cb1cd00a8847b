/**
 * This node's copy of the cluster data key (`src/security/data-key.ts`), kept in the data dir
 * (`data-key`, mode 0600) next to the Raft log it protects. The state records the key's id once
 * (`secret.key`): the first member that needs a key makes one and proposes its id; a member whose
 * key is not the recorded one (it lost the race, joined later, or lost its file) fetches the key
 * from another Raft member over the cluster's Noise-encrypted libp2p link (`secrets.dataKey`,
 * answered to Raft voters and learners only: observers never hold the key). A node that is not a
 * member has secrets sealed by a member instead (`secrets.seal`).
 * @module
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { RpcService } from '../p2p/index.js';
import { createDataKey, dataKeyId, sealSecret, secretDigest, DATA_KEY_BYTES } from '../security/index.js';
import { fileObjectsOf } from '../state/secrets.js';
import type { ClusterStore } from './cluster-store.js';
import { writeFileAtomic } from './local-files.js';

const KEY_FILE = 'data-key';
const CALL_MS = 5_000;

/** A value sealed for the log: what `secret.create` carries. */
export interface SealedValue {
  readonly data: string;
  readonly digest: string;
  readonly keyId: string;
}

/** Refusals a handler sends to the caller (an error `code` travels with the RPC error). */
class RefusedError extends Error {
  readonly code = 'REFUSED';
}

export interface DataKeyStoreDeps {
  readonly selfId: string;
  readonly dataDir: string;
  readonly store: Pick<ClusterStore, 'state' | 'conf' | 'role' | 'leader' | 'propose'>;
  readonly rpc: Pick<RpcService, 'handle' | 'call'>;
  readonly log: Logger;
}

export class DataKeyStore {
  readonly #deps: DataKeyStoreDeps;
  #key: Uint8Array | null = null;
  #loaded = false;
  /** One key resolution at a time: two first secrets must not make two keys here. */
  #pending: Promise<Uint8Array> | null = null;

  constructor(deps: DataKeyStoreDeps) {
    this.#deps = deps;
  }

  /** Serve the key to other members, and sealing to observers (register before RPC starts). */
  register(): void {
    this.#deps.rpc.handle('secrets.dataKey', async (_payload, { peerId }) => {
      if (!this.#isMember(peerId)) throw new RefusedError('the data key goes to Raft members only');
      const key = await this.#loadMatching();
      if (key === null) throw new RefusedError('this member does not hold the cluster data key');
      return { key: Buffer.from(key).toString('base64') };
    });
    this.#deps.rpc.handle('secrets.seal', async (payload) => {
      const { name, value } = payload as { name?: unknown; value?: unknown };
      if (typeof name !== 'string' || typeof value !== 'string') throw new RefusedError('expected {name, value}');
      return this.#sealHere(name, Buffer.from(value, 'base64'));
    });
  }

  /** Seal `value` for secret `name`: here on a Raft member, by the leader on an observer. */
  async seal(name: string, value: Uint8Array, signal?: AbortSignal): Promise<SealedValue> {
    if (this.#deps.store.role === 'member') return this.#sealHere(name, value);
    const leader = this.#deps.store.leader;
    if (leader === null) throw new Error('Cannot seal the secret: no leader is known; retry when the cluster has one');
    const payload = { name, value: Buffer.from(value).toString('base64') };
    return (await this.#deps.rpc.call(leader, 'secrets.seal', payload, { signal, timeoutMs: CALL_MS })) as SealedValue;
  }

  /** The cluster's data key, made or fetched when this node does not hold it yet. */
  key(): Promise<Uint8Array> {
    this.#pending ??= this.#resolve().finally(() => (this.#pending = null));
    return this.#pending;
  }

  async #sealHere(name: string, value: Uint8Array): Promise<SealedValue> {
    const key = await this.key();
    return { data: sealSecret(key, name, value), digest: secretDigest(key, name, value), keyId: dataKeyId(key) };
  }

  async #resolve(): Promise<Uint8Array> {
    const recorded = fileObjectsOf(this.#deps.store.state.view()).keyId;
    const local = await this.#load();
    if (recorded === null) {
      // No key yet: offer ours (or a new one); the first id committed wins.
      const key = local ?? createDataKey();
      if (local === null) await this.#save(key);
      const failure = await this.#deps.store.propose({ type: 'secret.key', keyId: dataKeyId(key) }).then(
        () => null,
        (error: unknown) => error,
      );
      const now = fileObjectsOf(this.#deps.store.state.view()).keyId;
      if (now === dataKeyId(key)) return key;
      if (now === null) throw failure; // not recorded at all (no leader in time): the caller retries
      this.#deps.log.info({ keyId: now }, 'another member recorded the data key first; fetching it');
    } else if (local !== null && dataKeyId(local) === recorded) return local;
    return this.#fetch();
  }

  async #fetch(): Promise<Uint8Array> {
    const recorded = fileObjectsOf(this.#deps.store.state.view()).keyId;
    const conf = this.#deps.store.conf;
    const leader = this.#deps.store.leader;
    const peers = [...new Set([...(leader ? [leader] : []), ...conf.voters, ...conf.learners])].filter(
      (id) => id !== this.#deps.selfId,
    );
    const failures: string[] = [];
    for (const peer of peers) {
      try {
        const answer = (await this.#deps.rpc.call(peer, 'secrets.dataKey', {}, { timeoutMs: CALL_MS })) as {
          key?: unknown;
        };
        const key = typeof answer.key === 'string' ? new Uint8Array(Buffer.from(answer.key, 'base64')) : null;
        if (key?.length === DATA_KEY_BYTES && dataKeyId(key) === recorded) {
          await this.#save(key);
          this.#deps.log.info({ from: peer, keyId: recorded }, 'fetched the cluster data key');
          return key;
        }
        failures.push(`${peer}: another key`);
      } catch (error) {
        failures.push(`${peer}: ${(error as Error).message}`);
      }
    }
    throw new Error(
      `Cannot get the cluster data key ${recorded ?? ''} from any member (${failures.join('; ') || 'no other member'})`,
    );
  }

  /** The local key when it is the one the state records (or none is recorded yet). */
  async #loadMatching(): Promise<Uint8Array | null> {
    const key = await this.#load();
    const recorded = fileObjectsOf(this.#deps.store.state.view()).keyId;
    return key !== null && dataKeyId(key) === recorded ? key : null;
  }

  async #load(): Promise<Uint8Array | null> {
    if (this.#loaded) return this.#key;
    try {
      const bytes = Buffer.from((await readFile(join(this.#deps.dataDir, KEY_FILE), 'utf8')).trim(), 'base64');
      this.#key = bytes.length === DATA_KEY_BYTES ? new Uint8Array(bytes) : null;
      if (this.#key === null) this.#deps.log.warn('the data-key file is damaged: fetching the key again');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    this.#loaded = true;
    return this.#key;
  }

  async #save(key: Uint8Array): Promise<void> {
    await writeFileAtomic(join(this.#deps.dataDir, KEY_FILE), `${Buffer.from(key).toString('base64')}\n`);
    this.#key = key;
    this.#loaded = true;
  }

  #isMember(peerId: string): boolean {
    const conf = this.#deps.store.conf;
    return conf.voters.includes(peerId) || conf.learners.includes(peerId);
  }
}
