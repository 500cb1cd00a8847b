/**
 * Secrets and configs in the replicated state, and how their commands apply. A secret's value
 * is stored sealed (AES-256-GCM under the cluster data key, whose id the state records once);
 * a config's as is (Swarm's configs are not secret either). Objects are never updated: rotating
 * a value is a new name and a redeploy, as in Swarm, and an object a service uses cannot be
 * removed. Absent from states written before issue 14: {@link fileObjectsOf} reads them empty.
 * @module
 */
import { at, fail, integer, isPlainObject, map, object } from './check.js';
import { checkData, checkFileObjectName, checkHex, checkOwnerStack, checkSize } from './secret-checks.js';
import type { SecretCommand } from './secret-commands.js';
import type { IndexedState } from './indexed-state.js';
import type { ServiceRecord } from './workloads.js';

/** One secret or config. */
export interface FileObjectRecord {
  readonly name: string;
  /** base64: sealed value (secret) or content (config). */
  readonly data: string;
  /** Secret: HMAC-SHA256 of the value under the data key; config: SHA-256 of the content. */
  readonly digest: string;
  readonly sizeBytes: number;
  /** The stack whose deploy created it; null when made with the CLI. */
  readonly stack: string | null;
  readonly createdAt: number;
}

/** The secret part of the state. */
export interface FileObjects {
  /** Id of the data key the secrets are sealed with; null until the first secret. */
  readonly keyId: string | null;
  readonly secrets: Readonly<Record<string, FileObjectRecord>>;
  readonly configs: Readonly<Record<string, FileObjectRecord>>;
}

const EMPTY: FileObjects = Object.freeze({ keyId: null, secrets: Object.freeze({}), configs: Object.freeze({}) });

/** The state's secrets and configs (empty for a state from before they existed). */
export function fileObjectsOf(state: { readonly fileObjects?: FileObjects }): FileObjects {
  return state.fileObjects ?? EMPTY;
}

/** The services whose spec names secret (or config) `name`, sorted by id. */
export function servicesUsing(
  services: Readonly<Record<string, ServiceRecord>>,
  kind: 'secret' | 'config',
  name: string,
): string[] {
  const field = kind === 'secret' ? 'secrets' : 'configs';
  return Object.values(services)
    .filter((s) => (s.spec[field] ?? []).some((ref) => ref.source === name))
    .map((s) => s.id)
    .sort();
}

type Outcome = { readonly ok: true; readonly state: IndexedState } | { readonly ok: false; readonly error: string };

/** Apply a secret or config command. Never throws; every refusal is the same on every peer. */
export function applySecretCommand(state: IndexedState, command: SecretCommand): Outcome {
  const objects = fileObjectsOf(state);
  const refuse = (reason: string): Outcome => ({ ok: false, error: `${command.type}: ${reason}` });
  const put = (next: FileObjects): Outcome => ({ ok: true, state: { ...state, fileObjects: next } });
  switch (command.type) {
    case 'secret.key':
      if (objects.keyId === command.keyId) return { ok: true, state };
      if (objects.keyId !== null)
        return refuse(`the secrets are sealed with data key ${objects.keyId} already: fetch it from a member`);
      return put({ ...objects, keyId: command.keyId });
    case 'secret.create':
    case 'config.create': {
      const kind = command.type === 'secret.create' ? 'secret' : 'config';
      if (command.type === 'secret.create' && command.keyId !== objects.keyId)
        return refuse(`sealed with data key ${command.keyId}, but the cluster's is ${objects.keyId ?? 'not set'}`);
      const group = kind === 'secret' ? objects.secrets : objects.configs;
      const existing = group[command.name];
      if (existing?.digest === command.digest) return { ok: true, state }; // a redeploy of the same value
      if (existing)
        return refuse(
          `${kind} ${command.name} exists with another value: ${kind}s cannot be changed; create one under a new name and redeploy with it`,
        );
      const record: FileObjectRecord = {
        name: command.name,
        data: command.data,
        digest: command.digest,
        sizeBytes: command.sizeBytes,
        stack: command.stack,
        createdAt: command.at,
      };
      const next = { ...group, [command.name]: record };
      return put(kind === 'secret' ? { ...objects, secrets: next } : { ...objects, configs: next });
    }
    case 'secret.remove':
    case 'config.remove': {
      const kind = command.type === 'secret.remove' ? 'secret' : 'config';
      const group = kind === 'secret' ? objects.secrets : objects.configs;
      if (!group[command.name]) return refuse(`no ${kind} named ${command.name}: \`shoal ${kind} ls\` lists them`);
      const users = servicesUsing(state.services, kind, command.name);
      if (users.length > 0)
        return refuse(
          `${kind} ${command.name} is in use by ${users.join(', ')}: deploy them without it (or remove them) first`,
        );
      const { [command.name]: _removed, ...rest } = group;
      return put(kind === 'secret' ? { ...objects, secrets: rest } : { ...objects, configs: rest });
    }
  }
}

function checkRecord(v: unknown, path: string): FileObjectRecord {
  const r = object(v, path, ['name', 'data', 'digest', 'sizeBytes', 'stack', 'createdAt']);
  return {
    name: checkFileObjectName(r.name, at(path, 'name')),
    data: checkData(r.data, at(path, 'data')),
    digest: checkHex(r.digest, at(path, 'digest')),
    sizeBytes: checkSize(r.sizeBytes, at(path, 'sizeBytes')),
    stack: checkOwnerStack(r.stack, at(path, 'stack')),
    createdAt: integer(r.createdAt, at(path, 'createdAt')),
  };
}

/** The `fileObjects` part of a snapshot's state: `{}` when absent (snapshots of earlier builds). */
export function checkFileObjectsSnapshot(s: Record<string, unknown>, path: string): { fileObjects?: FileObjects } {
  if (s.fileObjects === undefined) return {};
  const p = at(path, 'fileObjects');
  if (!isPlainObject(s.fileObjects)) fail(p, 'expected an object');
  const f = object(s.fileObjects, p, ['keyId', 'secrets', 'configs']);
  const group = (k: 'secrets' | 'configs') => {
    const records = map(f[k], at(p, k), 100_000, checkFileObjectName, checkRecord);
    for (const [name, r] of Object.entries(records))
      if (r.name !== name) fail(at(at(p, k), name), `is filed under another name than its own (${r.name})`);
    return records;
  };
  return {
    fileObjects: {
      keyId: f.keyId === null ? null : checkHex(f.keyId, at(p, 'keyId')),
      secrets: group('secrets'),
      configs: group('configs'),
    },
  };
}
