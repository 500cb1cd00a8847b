/** Builders of commands and entries shared by the state tests. */
import { EntryType, type Entry } from '../../src/raft/types.js';
import { fingerprint, tokenKeyHex } from '../../src/security/index.js';
import { encodeCommand, type Command, type NodeRegisterCommand } from '../../src/state/index.js';

export const CLUSTER_ID = 'k3v7q2m7xa4bnc5d';
export const T0 = 1_764_000_000_000;

/** A plausible Ed25519 peer id, distinct per `n`. */
export function peerId(n: number): string {
  return `12D3KooW${String(n).padStart(4, '0')}${'Ab'.repeat(22)}`;
}

/** A token key (hex) and its fingerprint, distinct per `n`. */
export function tokenFields(n: number): { tokenKey: string; fingerprint: string } {
  const key = tokenKeyHex(String.fromCharCode(97 + (n % 26)).repeat(32));
  return { tokenKey: key, fingerprint: fingerprint(key) };
}

export function init(at = T0): Command {
  return { v: 1, type: 'cluster.init', clusterId: CLUSTER_ID, name: 'lab', ...tokenFields(0), at };
}

export function register(n: number, at = T0 + n, extra: Partial<NodeRegisterCommand> = {}): NodeRegisterCommand {
  return {
    v: 1,
    type: 'node.register',
    id: peerId(n),
    hostname: `node-${n}`,
    addresses: [`/ip4/10.0.0.${n}/tcp/7946`],
    labels: { zone: n % 2 === 0 ? 'a' : 'b' },
    resources: { cpus: 8, memoryBytes: 32 * 2 ** 30, gpus: [] },
    roles: { voter: 'auto', workloads: true },
    version: '0.1.0',
    at,
    ...extra,
  };
}

/** Wrap commands (or raw bytes) into consecutive Normal entries from `first`. */
export function entries(items: ReadonlyArray<Command | Uint8Array>, first = 1): Entry[] {
  return items.map((item, i) => ({
    index: first + i,
    term: 1,
    type: EntryType.Normal,
    data: item instanceof Uint8Array ? item : encodeCommand(item),
  }));
}
