/**
 * Checks of the secret and config parts of commands and snapshots: names as Docker's, Swarm's
 * 500 KB limit, service references. Shared by `secret-commands.ts`, `secrets.ts` and the service
 * spec check (`workload-checks.ts`).
 * @module
 */
import { MAX_FILE_OBJECT_BYTES, fileObjectNameProblem } from '../stack/file-objects.js';
import type { FileRefSpec } from '../stack/spec.js';
import { at, fail, integer, list, object, string, unique } from './check.js';

/** A key id or a digest: lowercase hex. */
const HEX = /^[0-9a-f]{16,64}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** A sealed secret adds a 12-byte nonce and a 16-byte tag; base64 makes 4 characters of 3 bytes. */
export const MAX_FILE_OBJECT_DATA = Math.ceil((MAX_FILE_OBJECT_BYTES + 28) / 3) * 4;

export function checkFileObjectName(v: unknown, path: string): string {
  const name = string(v, path, { min: 1, max: 256 });
  const problem = fileObjectNameProblem(name);
  if (problem !== null) fail(path, problem);
  return name;
}

export function checkHex(v: unknown, path: string): string {
  return string(v, path, { pattern: HEX, shape: '16 to 64 lowercase hex digits', max: 64 });
}

export function checkData(v: unknown, path: string): string {
  return string(v, path, { max: MAX_FILE_OBJECT_DATA, pattern: BASE64, shape: 'base64' });
}

export function checkSize(v: unknown, path: string): number {
  return integer(v, path, 0, MAX_FILE_OBJECT_BYTES);
}

/** A stack name, or null for an object made with the CLI. */
export function checkOwnerStack(v: unknown, path: string): string | null {
  return v === null ? null : string(v, path, { min: 1, max: 256 });
}

function checkRef(v: unknown, path: string): FileRefSpec {
  const r = object(v, path, ['source', 'target', 'uid', 'gid', 'mode']);
  const target = string(r.target, at(path, 'target'), { min: 2, max: 4096 });
  if (!target.startsWith('/') || target.includes('\0')) fail(at(path, 'target'), 'expected an absolute path');
  return {
    source: checkFileObjectName(r.source, at(path, 'source')),
    target,
    uid: integer(r.uid, at(path, 'uid'), 0, 0xffff_fffe),
    gid: integer(r.gid, at(path, 'gid'), 0, 0xffff_fffe),
    mode: integer(r.mode, at(path, 'mode'), 0, 0o777),
  };
}

/** A service spec's `secrets` or `configs`: at most 1,000 references with distinct targets. */
export function checkFileRefs(v: unknown, path: string): FileRefSpec[] {
  const refs = list(v, path, 1000, checkRef);
  unique(refs, path, (r) => r.target, 'target');
  return refs;
}
