/**
 * The few files an agent keeps besides its Raft storage: which cluster this data dir belongs to
 * (so a restart rejoins it without flags) and the last join token this node created (the
 * replicated state holds only the token's derived key, never the secret), and on an observer the
 * Raft members it follows (peers.json).
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface ClusterMembership {
  readonly version: 1;
  readonly clusterId: string;
  /** 'init': this node created the cluster; 'join': it joined through a member. */
  readonly origin: 'init' | 'join';
  /** The Raft configuration to bootstrap from when the log is empty (the creator alone; a joiner: none). */
  readonly bootstrapVoters: readonly string[];
}

export class LocalFileError extends Error {
  override readonly name = 'LocalFileError';
}

const MEMBERSHIP_FILE = 'cluster.json';
const TOKEN_FILE = 'join-token';
const PEERS_FILE = 'peers.json';

export async function readMembership(dataDir: string): Promise<ClusterMembership | null> {
  const path = join(dataDir, MEMBERSHIP_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new LocalFileError(`Cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new LocalFileError(
      `Cannot parse ${path} as JSON: fix or remove it (removing it makes this node forget its cluster)`,
      { cause: error },
    );
  }
  const m = parsed as Partial<ClusterMembership>;
  if (
    m.version !== 1 ||
    typeof m.clusterId !== 'string' ||
    (m.origin !== 'init' && m.origin !== 'join') ||
    !Array.isArray(m.bootstrapVoters)
  ) {
    throw new LocalFileError(
      `Cannot use ${path}: expected {version: 1, clusterId, origin, bootstrapVoters}: fix or remove it`,
    );
  }
  return m as ClusterMembership;
}

export async function writeMembership(dataDir: string, membership: ClusterMembership): Promise<void> {
  await writeFileAtomic(join(dataDir, MEMBERSHIP_FILE), `${JSON.stringify(membership, null, 2)}\n`);
}

export async function readLocalToken(dataDir: string): Promise<string | null> {
  try {
    return (await readFile(join(dataDir, TOKEN_FILE), 'utf8')).trim();
  } catch {
    return null;
  }
}

export async function writeLocalToken(dataDir: string, token: string): Promise<void> {
  await writeFileAtomic(join(dataDir, TOKEN_FILE), `${token}\n`);
}

/** A Raft member as an observer last knew it: whom to follow after a restart, before any state. */
export interface KnownPeer {
  readonly id: string;
  readonly addresses: readonly string[];
}

/** The Raft members this observer last followed, or none (unreadable counts as none: the join answer's are gone). */
export async function readKnownPeers(dataDir: string): Promise<KnownPeer[]> {
  try {
    const parsed = JSON.parse(await readFile(join(dataDir, PEERS_FILE), 'utf8')) as unknown;
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (p): p is KnownPeer =>
        typeof (p as KnownPeer | null)?.id === 'string' &&
        Array.isArray((p as KnownPeer).addresses) &&
        (p as KnownPeer).addresses.every((a) => typeof a === 'string'),
    );
  } catch {
    return [];
  }
}

export async function writeKnownPeers(dataDir: string, peers: readonly KnownPeer[]): Promise<void> {
  await writeFileAtomic(join(dataDir, PEERS_FILE), `${JSON.stringify(peers, null, 2)}\n`);
}

/** Write, fsync, rename, fsync the directory: after a crash the file is either old or new. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.tmp-${process.pid}`;
  const file = await open(temp, 'w', 0o600);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
