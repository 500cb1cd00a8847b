/**
 * Registry credentials from the deploy to the nodes that pull (issue 15, `--with-registry-auth`),
 * by the secrets' mechanism (secret-delivery.ts): the agent that takes the deploy seals each
 * service's credential with the cluster data key onto its record (src/state/registry-auth.ts);
 * a node that must pull a task's image asks a Raft member (`registryAuth.forTask`, over the
 * cluster's Noise-encrypted, member-only links), which checks with a linearizable read that the
 * task is assigned to the caller, opens the credential and answers. The node hands it to its
 * Docker driver for that pull only and keeps it nowhere; no log line, event or API answer holds it.
 * @module
 */
import type { Logger } from 'pino';
import type { RpcService } from '../p2p/index.js';
import { parseImageRef, type ImageRef } from '../runtime/image-ref.js';
import type { PullCredentials } from '../runtime/image-lookup.js';
import type { RegistryCredential } from '../runtime/registry-digest.js';
import type { RunnableAssignment } from '../runtime/types.js';
import { openSecret } from '../security/index.js';
import { registryAuthSealName, type SealedRegistryAuth } from '../state/registry-auth.js';
import { serviceId } from '../state/workload-checks.js';
import type { ServiceSpec } from '../stack/spec.js';
import type { ClusterStore } from './cluster-store.js';
import type { DataKeyStore } from './data-key-store.js';
import { askMembers, MemberRefusedError } from './member-ask.js';

const METHOD = 'registryAuth.forTask';

interface ForTaskAnswer {
  readonly registry?: string;
  readonly username?: string;
  readonly password?: string;
}

export interface RegistryAuthDeliveryDeps {
  readonly selfId: string;
  readonly store: Pick<ClusterStore, 'state' | 'read' | 'conf' | 'leader'>;
  readonly rpc: Pick<RpcService, 'handle' | 'call'>;
  readonly keys: Pick<DataKeyStore, 'key' | 'seal'>;
  readonly log: Logger;
}

export class RegistryAuthDelivery {
  readonly #deps: RegistryAuthDeliveryDeps;

  constructor(deps: RegistryAuthDeliveryDeps) {
    this.#deps = deps;
  }

  /** Serve the credentials of tasks' services to the nodes the tasks are assigned to (before RPC starts). */
  register(): void {
    this.#deps.rpc.handle(METHOD, (payload, { peerId, signal }) => {
      const taskId = (payload as { taskId?: unknown } | null)?.taskId;
      if (typeof taskId !== 'string' || taskId.length > 256) throw new MemberRefusedError('expected {taskId}');
      return this.#answer(taskId, peerId, signal);
    });
  }

  /**
   * The sealed credential of each service of a deploy whose image is in a registry `credentials`
   * names (process services have no image to pull), by service name.
   */
  async sealForDeploy(
    stack: string,
    services: Readonly<Record<string, ServiceSpec>>,
    credentials: Readonly<Record<string, RegistryCredential>>,
    signal?: AbortSignal,
  ): Promise<Map<string, SealedRegistryAuth>> {
    const sealed = new Map<string, SealedRegistryAuth>();
    if (Object.keys(credentials).length === 0) return sealed;
    for (const [name, spec] of Object.entries(services)) {
      const registry = spec.runtime === 'process' ? null : registryOf(spec.image);
      const credential = registry === null ? undefined : credentials[registry];
      if (registry === null || credential === undefined) continue;
      const value = Buffer.from(`${credential.username}:${credential.password}`, 'utf8');
      const { data, digest } = await this.#deps.keys.seal(registryAuthSealName(serviceId(stack, name)), value, signal);
      sealed.set(name, { registry, data, digest });
    }
    return sealed;
  }

  /**
   * The credential for pulling the image of a task of this node (the Docker driver's
   * `pullCredential`): null when its service has none for the image's registry; asked of a member
   * otherwise, for this pull only.
   */
  readonly forPull: PullCredentials = async (a: RunnableAssignment, signal?: AbortSignal) => {
    const sealed = this.#deps.store.state.view().services[a.service.id]?.registryAuth;
    if (sealed === undefined || registryOf(a.service.spec.image) !== sealed.registry) return null;
    const answer = await this.#ask(a.task.id, signal);
    if (answer.username === undefined || answer.password === undefined || answer.registry !== sealed.registry)
      return null;
    return { username: answer.username, password: answer.password };
  };

  /**
   * The credentials the leader's image watch asks `ref`'s registry with: those of a service that
   * runs that repository (null: none given). Only a member holds the key; they stay in memory.
   */
  async forWatch(ref: Pick<ImageRef, 'registry' | 'name'>): Promise<RegistryCredential | null> {
    const services = Object.values(this.#deps.store.state.view().services);
    const found = services.find((s) => s.registryAuth?.registry === ref.registry && nameOf(s.spec.image) === ref.name);
    if (found?.registryAuth === undefined) return null;
    return splitCredential(await this.#open(found.id, found.registryAuth));
  }

  async #open(serviceId: string, sealed: SealedRegistryAuth): Promise<string> {
    const key = await this.#deps.keys.key();
    return openSecret(key, registryAuthSealName(serviceId), sealed.data).toString('utf8');
  }

  async #ask(taskId: string, signal?: AbortSignal): Promise<ForTaskAnswer> {
    try {
      return await askMembers<ForTaskAnswer>(
        this.#deps,
        METHOD,
        { taskId },
        () => this.#answer(taskId, this.#deps.selfId, signal),
        { what: `the registry credentials of task ${taskId}`, signal },
      );
    } catch (error) {
      if (!(error instanceof MemberRefusedError)) throw error;
      throw new Error(`Cannot get the registry credentials of task ${taskId}: refused (${error.message})`, {
        cause: error,
      });
    }
  }

  async #answer(taskId: string, caller: string, signal?: AbortSignal): Promise<ForTaskAnswer> {
    await this.#deps.store.read(signal); // the assignment the caller acts on is in our state too
    const view = this.#deps.store.state.view();
    const task = view.tasks.get(taskId);
    if (!task || task.nodeId !== caller || task.desiredState === 'shutdown')
      throw new MemberRefusedError(`task ${taskId} is not assigned to node ${caller.slice(-12)}`);
    const sealed = view.services[task.serviceId]?.registryAuth;
    if (sealed === undefined) return {};
    const credential = splitCredential(await this.#open(task.serviceId, sealed));
    this.#deps.log.debug(
      { task: taskId, node: caller, registry: sealed.registry },
      'registry auth: handing a node the credentials for a pull',
    );
    return { registry: sealed.registry, ...credential };
  }
}

/** The registry of an image reference; null when Docker would not read it. */
function registryOf(image: string): string | null {
  try {
    return parseImageRef(image).registry;
  } catch {
    return null;
  }
}

/** The name of an image reference (`127.0.0.1:5000/app`); null when Docker would not read it. */
function nameOf(image: string): string | null {
  try {
    return parseImageRef(image).name;
  } catch {
    return null;
  }
}

/** `user:password` (sealed as Docker's config writes it) split at its first colon. */
function splitCredential(text: string): RegistryCredential {
  const colon = text.indexOf(':');
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}
