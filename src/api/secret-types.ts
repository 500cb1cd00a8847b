/**
 * The secrets and configs part of the admin API. A secret's value goes in (create) and never
 * comes out: no view carries it, nor its digest. A config's content comes out of `inspect` only.
 * @module
 */
import type { ReadOptions, WriteOptions } from './types.js';

export type FileObjectKind = 'secret' | 'config';

/** `POST /v1/secrets` and `/v1/configs`: the value as base64 (binary values work too). */
export interface FileObjectCreateRequest {
  readonly name: string;
  readonly data: string;
}

/** A secret or config as `ls` and `inspect` show it. */
export interface FileObjectView {
  readonly name: string;
  readonly kind: FileObjectKind;
  readonly sizeBytes: number;
  /** The stack whose deploy created it; null when made with `shoal secret create`. */
  readonly stack: string | null;
  readonly createdAt: number;
  /** Ids of the services that use it (it cannot be removed while any does). */
  readonly usedBy: readonly string[];
}

/** `config inspect`: the view and the content (UTF-8; base64 in `contentBase64` when it is not text). */
export interface ConfigInspectView extends FileObjectView {
  readonly content: string | null;
  readonly contentBase64: string;
}

export interface SecretApi {
  createFileObject(
    kind: FileObjectKind,
    request: FileObjectCreateRequest,
    options?: WriteOptions,
  ): Promise<FileObjectView>;
  listFileObjects(kind: FileObjectKind, options?: ReadOptions): Promise<FileObjectView[]>;
  inspectFileObject(
    kind: FileObjectKind,
    name: string,
    options?: ReadOptions,
  ): Promise<FileObjectView | ConfigInspectView>;
  removeFileObject(kind: FileObjectKind, name: string, options?: WriteOptions): Promise<{ readonly removed: string }>;
}
