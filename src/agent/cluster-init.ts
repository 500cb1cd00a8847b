/**
 * The first commands of a new cluster: `cluster.init` (its id, name and join token key) and this
 * node's `node.register`, then a snapshot. Idempotent: an agent restarted in the middle of `init`
 * runs it again (self-registration.ts) and finishes the job.
 */
import { createJoinToken, fingerprint, tokenKeyHex } from '../security/index.js';
import type { ClusterStore } from './cluster-store.js';
import { readLocalToken, writeLocalToken } from './local-files.js';
import type { NodeFactsSource } from './node-facts.js';

export interface ClusterInitDeps {
  readonly selfId: string;
  readonly dataDir: string;
  readonly store: Pick<ClusterStore, 'state' | 'requireRaft' | 'membership' | 'propose'>;
  readonly facts: NodeFactsSource;
}

/** Write the cluster's first commands; resolves with the join token this node holds. */
export async function completeInit(deps: ClusterInitDeps, name: string, signal?: AbortSignal): Promise<string> {
  const raft = deps.store.requireRaft();
  const clusterId = deps.store.membership()!.clusterId;
  const token = createJoinToken(clusterId);
  if (!deps.store.state.cluster()) {
    await deps.store.propose(
      {
        type: 'cluster.init',
        clusterId,
        name,
        tokenKey: tokenKeyHex(token.secret),
        fingerprint: fingerprint(tokenKeyHex(token.secret)),
      },
      { signal },
    );
    await writeLocalToken(deps.dataDir, token.text);
  }
  await deps.store.propose(
    { type: 'node.register', id: deps.selfId, ...(await deps.facts()), roles: { voter: 'auto', workloads: true } },
    { signal },
  );
  // Joiners must start from a snapshot: it carries the bootstrap configuration, the log does not.
  await raft.snapshotNow();
  return (await readLocalToken(deps.dataDir)) ?? token.text;
}

/**
 * `run`, but a call while one is under way gets that one's promise: `shoal init` and
 * self-registration (which finishes an init cut short) both complete the init, and two at once
 * proposed two `cluster.init`s, the second refused. The first caller's arguments win: `init`'s,
 * as self-registration waits 200 ms before it looks.
 */
export function singleFlight<A extends unknown[], T>(run: (...args: A) => Promise<T>): (...args: A) => Promise<T> {
  let running: Promise<T> | null = null;
  return (...args: A) => {
    running ??= run(...args).finally(() => {
      running = null;
    });
    return running;
  };
}
