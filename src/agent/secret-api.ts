/**
 * The admin API of secrets and configs (`shoal secret|config create/ls/inspect/rm`), and the
 * objects a stack deploy creates from its Compose file's top-level `secrets:`/`configs:`
 * (`<stack>_<key>` unless `name:` says otherwise), as `docker stack deploy` does. A value is
 * sealed before it is proposed (data-key-store.ts) and never returned.
 * @module
 */
import type {
  ConfigInspectView,
  FileObjectCreateRequest,
  FileObjectKind,
  FileObjectView,
} from '../api/secret-types.js';
import { ApiError, type ReadOptions, type WriteOptions } from '../api/types.js';
import { configDigest } from '../security/index.js';
import { MAX_FILE_OBJECT_BYTES, fileObjectNameProblem } from '../stack/file-objects.js';
import type { FileObjectSpec, StackSpec } from '../stack/spec.js';
import { fileObjectsOf, servicesUsing, type FileObjectRecord } from '../state/secrets.js';
import type { ClusterStore } from './cluster-store.js';
import type { DataKeyStore } from './data-key-store.js';

export interface SecretServiceDeps {
  readonly store: Pick<ClusterStore, 'state' | 'read' | 'propose'>;
  readonly keys: Pick<DataKeyStore, 'seal'>;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export class SecretService {
  readonly #deps: SecretServiceDeps;

  constructor(deps: SecretServiceDeps) {
    this.#deps = deps;
  }

  async createFileObject(
    kind: FileObjectKind,
    request: FileObjectCreateRequest,
    options: WriteOptions = {},
  ): Promise<FileObjectView> {
    const problem = fileObjectNameProblem(request.name);
    if (problem !== null) throw new ApiError(400, 'bad_request', `Cannot create ${kind} ${request.name}: ${problem}`);
    if (request.data.length % 4 !== 0 || !BASE64.test(request.data))
      throw new ApiError(400, 'bad_request', `Cannot create ${kind} ${request.name}: data is not base64`);
    const value = Buffer.from(request.data, 'base64');
    checkSize(kind, request.name, value.length);
    await this.#deps.store.read(options.signal);
    if (this.#group(kind)[request.name])
      throw new ApiError(
        409,
        'conflict',
        `Cannot create ${kind} ${request.name} as it exists: ${kind}s cannot be changed; create one under a new name, ` +
          `deploy the services with it, then remove the old one`,
      );
    await this.#propose(kind, request.name, value, null, options);
    return this.#view(kind, this.#group(kind)[request.name]!);
  }

  async listFileObjects(kind: FileObjectKind, options: ReadOptions = {}): Promise<FileObjectView[]> {
    await this.#maybeRead(options);
    return Object.values(this.#group(kind)).map((record) => this.#view(kind, record));
  }

  async inspectFileObject(
    kind: FileObjectKind,
    name: string,
    options: ReadOptions = {},
  ): Promise<FileObjectView | ConfigInspectView> {
    await this.#maybeRead(options);
    const record = this.#group(kind)[name];
    if (!record) throw new ApiError(404, 'not_found', `No ${kind} named ${name}: \`shoal ${kind} ls\` lists them`);
    const view = this.#view(kind, record);
    if (kind === 'secret') return view; // a secret's value never leaves the cluster through the API
    const bytes = Buffer.from(record.data, 'base64');
    const text = bytes.toString('utf8');
    return { ...view, content: Buffer.from(text, 'utf8').equals(bytes) ? text : null, contentBase64: record.data };
  }

  async removeFileObject(
    kind: FileObjectKind,
    name: string,
    options: WriteOptions = {},
  ): Promise<{ readonly removed: string }> {
    await this.#deps.store.read(options.signal);
    if (!this.#group(kind)[name])
      throw new ApiError(404, 'not_found', `No ${kind} named ${name}: \`shoal ${kind} ls\` lists them`);
    await this.#deps.store.propose({ type: `${kind}.remove`, name }, options);
    return { removed: name };
  }

  /**
   * Before a stack deploy: create the file's secrets and configs that do not exist yet (an
   * unchanged one is left alone), and check that the external ones exist. A changed value under
   * an existing name is refused: rotation is a new name, as in Swarm.
   */
  async prepareStack(spec: StackSpec, options: WriteOptions = {}): Promise<void> {
    for (const kind of ['secret', 'config'] as const) {
      const defined = (kind === 'secret' ? spec.secrets : spec.configs) ?? {};
      for (const [key, def] of Object.entries(defined)) await this.#prepare(kind, spec.name, key, def, options);
    }
  }

  /**
   * After `stack rm`: remove the secrets and configs its deploys created, as `docker stack rm`
   * does, unless another stack's service uses one. Objects made with the CLI stay.
   */
  async removeStackObjects(stack: string, options: WriteOptions = {}): Promise<void> {
    const services = this.#deps.store.state.view().services;
    for (const kind of ['secret', 'config'] as const) {
      for (const record of Object.values(this.#group(kind))) {
        if (record.stack !== stack || servicesUsing(services, kind, record.name).length > 0) continue;
        await this.#deps.store.propose({ type: `${kind}.remove`, name: record.name }, options);
      }
    }
  }

  async #prepare(
    kind: FileObjectKind,
    stack: string,
    key: string,
    def: FileObjectSpec,
    options: WriteOptions,
  ): Promise<void> {
    const existing = this.#group(kind)[def.name];
    if (def.external || def.content === null) {
      if (!existing)
        throw new ApiError(
          400,
          'bad_request',
          `stack ${stack}: ${kind}s.${key}: external ${kind} ${def.name} does not exist: create it with \`shoal ${kind} create ${def.name} FILE\``,
        );
      return;
    }
    const value = Buffer.from(def.content, 'utf8');
    await this.#propose(kind, def.name, value, stack, options, existing, `${kind}s.${key}`);
  }

  async #propose(
    kind: FileObjectKind,
    name: string,
    value: Buffer,
    stack: string | null,
    options: WriteOptions,
    existing?: FileObjectRecord,
    where?: string,
  ): Promise<void> {
    const changed = () =>
      new ApiError(
        409,
        'conflict',
        `${where ? `stack ${stack}: ${where}: ` : ''}${kind} ${name} exists with another value: ${kind}s cannot be ` +
          `changed; give the new value a new name (name: ${name}_v2) and deploy, then remove the old one`,
      );
    if (kind === 'config') {
      const digest = configDigest(value);
      if (existing?.digest === digest) return;
      if (existing) throw changed();
      const data = value.toString('base64');
      await this.#deps.store.propose(
        { type: 'config.create', name, data, digest, sizeBytes: value.length, stack },
        options,
      );
      return;
    }
    const sealed = await this.#deps.keys.seal(name, value, options.signal);
    if (existing?.digest === sealed.digest) return;
    if (existing) throw changed();
    await this.#deps.store.propose({ type: 'secret.create', name, ...sealed, sizeBytes: value.length, stack }, options);
  }

  #group(kind: FileObjectKind): Readonly<Record<string, FileObjectRecord>> {
    const objects = fileObjectsOf(this.#deps.store.state.view());
    return kind === 'secret' ? objects.secrets : objects.configs;
  }

  #view(kind: FileObjectKind, record: FileObjectRecord): FileObjectView {
    return {
      name: record.name,
      kind,
      sizeBytes: record.sizeBytes,
      stack: record.stack,
      createdAt: record.createdAt,
      usedBy: servicesUsing(this.#deps.store.state.view().services, kind, record.name),
    };
  }

  async #maybeRead(options: ReadOptions): Promise<void> {
    if (options.consistency !== 'stale') await this.#deps.store.read(options.signal);
  }
}

function checkSize(kind: FileObjectKind, name: string, bytes: number): void {
  if (bytes === 0) throw new ApiError(400, 'bad_request', `Cannot create ${kind} ${name}: the value is empty`);
  if (bytes > MAX_FILE_OBJECT_BYTES)
    throw new ApiError(
      400,
      'bad_request',
      `Cannot create ${kind} ${name} as it is ${bytes} bytes: a ${kind} holds at most 500 KB (${MAX_FILE_OBJECT_BYTES} bytes)`,
    );
}
