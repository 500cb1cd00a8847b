/**
 * The rollout part of the admin API (issue 15): history, rollback, promote and `service update`.
 * `service update` builds the new spec here from the current one, checks it as apply will (the
 * replicated state's spec check) and proposes `service.update`; the rollout controller does the rest.
 * @module
 */
import type {
  RolloutApi,
  ServiceHistoryView,
  ServiceUpdateRequest,
  ServiceVersionView,
} from '../api/rollout-routes.js';
import {
  ApiError,
  type ReadOptions,
  type ServiceUpdateView,
  type ServiceView,
  type WriteOptions,
} from '../api/types.js';
import { hashService } from '../stack/index.js';
import type { ServiceSpec } from '../stack/spec.js';
import { FieldIssue } from '../state/check.js';
import { historyOf, type RolloutStatus } from '../state/rollout.js';
import { checkServiceSpec } from '../state/workload-checks.js';
import type { ServiceRecord } from '../state/workloads.js';

/** What the rollout API needs of the workload service. */
export interface RolloutServiceDeps {
  /** Wait until this node has applied everything committed (a linearizable read). */
  readonly read: (signal?: AbortSignal) => Promise<void>;
  readonly requireJoined: () => void;
  readonly findService: (idOrName: string) => ServiceRecord;
  readonly service: (id: string) => ServiceRecord | undefined;
  readonly propose: (
    command:
      | { type: 'service.rollback'; serviceId: string; to?: number }
      | { type: 'service.promote'; serviceId: string }
      | {
          type: 'service.update';
          serviceId: string;
          spec: ServiceSpec;
          specHash: string;
          force: boolean;
          ifVersion: number;
        },
    options: WriteOptions,
  ) => Promise<unknown>;
  readonly view: (service: ServiceRecord) => ServiceView;
  /** Pins a new `--image` to its digest as a deploy does (image-pins.ts); as given without it. */
  readonly pinImage?: (spec: ServiceSpec, signal?: AbortSignal) => Promise<ServiceSpec>;
}

const ENV_KEY = /^[^=\s]{1,256}$/;

export class RolloutService implements RolloutApi {
  readonly #deps: RolloutServiceDeps;

  constructor(deps: RolloutServiceDeps) {
    this.#deps = deps;
  }

  async serviceHistory(idOrName: string, options: ReadOptions = {}): Promise<ServiceHistoryView> {
    this.#deps.requireJoined();
    if (options.consistency !== 'stale') await this.#deps.read(options.signal);
    const service = this.#deps.findService(idOrName);
    const versions: ServiceVersionView[] = historyOf(service).map((e) => ({
      version: e.version,
      image: e.spec.image,
      createdAt: e.createdAt,
      stable: e.stable,
      rollbackOf: e.rollbackOf ?? null,
      force: e.force,
      current: e.version === service.version,
    }));
    return { service: service.id, version: service.version, versions };
  }

  async rollbackService(idOrName: string, request: { to?: number }, options: WriteOptions = {}): Promise<ServiceView> {
    const service = await this.#writable(idOrName, options);
    const to = request.to === undefined ? {} : { to: request.to };
    await this.#propose({ type: 'service.rollback', serviceId: service.id, ...to }, options);
    return this.#deps.view(this.#deps.service(service.id) ?? service);
  }

  async promoteService(idOrName: string, options: WriteOptions = {}): Promise<ServiceView> {
    const service = await this.#writable(idOrName, options);
    await this.#propose({ type: 'service.promote', serviceId: service.id }, options);
    return this.#deps.view(this.#deps.service(service.id) ?? service);
  }

  async updateService(
    idOrName: string,
    request: ServiceUpdateRequest,
    options: WriteOptions = {},
  ): Promise<ServiceView> {
    const service = await this.#writable(idOrName, options);
    const changed = updatedSpec(service, request);
    const pin = this.#deps.pinImage;
    const spec = request.image !== undefined && pin !== undefined ? await pin(changed, options.signal) : changed;
    const specHash = hashService(spec);
    const force = request.force === true;
    if (specHash === service.specHash && !force)
      throw new ApiError(
        400,
        'bad_request',
        `Cannot update ${service.id} as nothing would change: give --image, --env-add, --env-rm, or --force to replace its tasks anyway`,
      );
    await this.#propose(
      { type: 'service.update', serviceId: service.id, spec, specHash, force, ifVersion: service.version },
      options,
    );
    return this.#deps.view(this.#deps.service(service.id) ?? service);
  }

  async #writable(idOrName: string, options: WriteOptions): Promise<ServiceRecord> {
    await this.#deps.read(options.signal);
    const service = this.#deps.findService(idOrName);
    if (service.spec.kind !== 'replicated' && service.spec.kind !== 'global')
      throw new ApiError(
        400,
        'bad_request',
        `Cannot roll out ${service.id} as it is a ${service.spec.kind}: only replicated and global services have rollouts (redeploy the stack)`,
      );
    return service;
  }

  #propose(command: Parameters<RolloutServiceDeps['propose']>[0], options: WriteOptions): Promise<unknown> {
    // A refusal by apply (a version not in the history, nothing to promote) comes back as a 409.
    return this.#deps.propose(command, options);
  }
}

/**
 * The spec of `service` with the request's changes, checked as the replicated state checks specs.
 * @throws {ApiError} 400 naming the field.
 */
export function updatedSpec(service: ServiceRecord, request: ServiceUpdateRequest): ServiceSpec {
  const spec = service.spec;
  if (request.image !== undefined && (request.image.trim() !== request.image || /\s/.test(request.image)))
    throw new ApiError(400, 'bad_request', `image: expected an image reference without spaces, got "${request.image}"`);
  if (request.image !== undefined && spec.runtime === 'process')
    throw new ApiError(
      400,
      'bad_request',
      `Cannot set the image of ${service.id} as it runs a process, not a container`,
    );
  const env: Record<string, string> = { ...spec.env };
  for (const key of request.envRm ?? []) {
    if (!Object.hasOwn(env, key))
      throw new ApiError(400, 'bad_request', `envRm: ${service.id} has no environment variable "${key}"`);
    delete env[key];
  }
  for (const [key, value] of Object.entries(request.envAdd ?? {})) {
    if (!ENV_KEY.test(key))
      throw new ApiError(400, 'bad_request', `envAdd: "${key}" is not a variable name (no "=", no spaces)`);
    env[key] = value;
  }
  const sortedEnv = Object.fromEntries(
    Object.keys(env)
      .sort()
      .map((k) => [k, env[k]!]),
  );
  const next = { ...spec, ...(request.image === undefined ? {} : { image: request.image }), env: sortedEnv };
  try {
    return checkServiceSpec(next, 'spec');
  } catch (error) {
    if (error instanceof FieldIssue) throw new ApiError(400, 'bad_request', `${error.path}: ${error.detail}`);
    throw error;
  }
}

/** A rollout as the API shows it (`service ls` UPDATE column, `inspect`). */
export function rolloutView(r: RolloutStatus): ServiceUpdateView {
  return {
    state: r.state,
    reason: r.reason,
    fromVersion: r.fromVersion,
    toVersion: r.toVersion,
    updated: r.updated,
    failed: r.failed,
    total: r.total,
    startedAt: r.startedAt,
    updatedAt: r.updatedAt,
  };
}
