/**
 * How a task's secrets reach the node that runs it, and only that node. The node asks a Raft
 * member (`secrets.forTask`, over the cluster's Noise-encrypted, member-only libp2p links); the
 * member confirms with a linearizable read that the task is assigned to the caller and that its
 * service names the secrets, opens them with the data key and answers. No plaintext is ever
 * replicated; configs, which are not secret, come from the node's own copy of the state.
 * @module
 */
import type { Logger } from 'pino';
import type { RpcService } from '../p2p/index.js';
import { TaskRejectedError, type RunnableAssignment, type TaskFile } from '../runtime/index.js';
import { openSecret } from '../security/index.js';
import { fileObjectsOf } from '../state/secrets.js';
import type { ClusterStore } from './cluster-store.js';
import type { DataKeyStore } from './data-key-store.js';
import { askMembers, MemberRefusedError } from './member-ask.js';

interface ForTaskAnswer {
  readonly secrets: readonly { readonly name: string; readonly data: string }[];
}

export interface SecretDeliveryDeps {
  readonly selfId: string;
  readonly store: Pick<ClusterStore, 'state' | 'read' | 'conf' | 'leader'>;
  readonly rpc: Pick<RpcService, 'handle' | 'call'>;
  readonly keys: Pick<DataKeyStore, 'key'>;
  readonly log: Logger;
}

export class SecretDelivery {
  readonly #deps: SecretDeliveryDeps;

  constructor(deps: SecretDeliveryDeps) {
    this.#deps = deps;
  }

  /** Serve the secrets of tasks to the nodes they are assigned to (register before RPC starts). */
  register(): void {
    this.#deps.rpc.handle('secrets.forTask', (payload, { peerId, signal }) => {
      const taskId = (payload as { taskId?: unknown } | null)?.taskId;
      if (typeof taskId !== 'string' || taskId.length > 256) throw new MemberRefusedError('expected {taskId}');
      return this.#secretsFor(taskId, peerId, signal);
    });
  }

  /** The files of a task of this node: for the runtime (task-files.ts). */
  async resolve(_nodeId: string, a: RunnableAssignment, signal?: AbortSignal): Promise<TaskFile[]> {
    const spec = a.service.spec;
    const configs = fileObjectsOf(this.#deps.store.state.view()).configs;
    const files: TaskFile[] = (spec.configs ?? []).map((ref) => {
      const record = configs[ref.source];
      if (!record) throw new TaskRejectedError(`config ${ref.source} does not exist: create it or redeploy without it`);
      return { kind: 'config', name: ref.source, ...owner(ref), data: Buffer.from(record.data, 'base64') };
    });
    const refs = spec.secrets ?? [];
    if (refs.length === 0) return files;
    const answer = await this.#fetch(a.task.id, signal);
    const values = new Map(answer.secrets.map((s) => [s.name, s.data]));
    for (const ref of refs) {
      const data = values.get(ref.source);
      if (data === undefined) throw new Error(`the member's answer lacks secret ${ref.source}`);
      files.push({ kind: 'secret', name: ref.source, ...owner(ref), data: Buffer.from(data, 'base64') });
    }
    return files;
  }

  async #fetch(taskId: string, signal?: AbortSignal): Promise<ForTaskAnswer> {
    try {
      // Unreachable members: the error goes up, and the runtime retries the create by the restart policy.
      return await askMembers<ForTaskAnswer>(
        this.#deps,
        'secrets.forTask',
        { taskId },
        () => this.#secretsFor(taskId, this.#deps.selfId, signal),
        { what: `the secrets of task ${taskId}`, signal },
      );
    } catch (error) {
      if (!(error instanceof MemberRefusedError)) throw error;
      throw new TaskRejectedError(`Cannot get the secrets of task ${taskId}: ${error.message}`, { cause: error });
    }
  }

  async #secretsFor(taskId: string, caller: string, signal?: AbortSignal): Promise<ForTaskAnswer> {
    await this.#deps.store.read(signal); // the assignment the caller acts on is in our state too
    const view = this.#deps.store.state.view();
    const task = view.tasks.get(taskId);
    if (!task || task.nodeId !== caller || task.desiredState === 'shutdown')
      throw new MemberRefusedError(`task ${taskId} is not assigned to node ${caller.slice(-12)}`);
    const service = view.services[task.serviceId];
    const refs = service?.spec.secrets ?? [];
    const secrets = fileObjectsOf(view).secrets;
    const missing = refs.filter((ref) => !secrets[ref.source]).map((ref) => ref.source);
    if (missing.length > 0)
      throw new MemberRefusedError(`secret ${missing.join(', ')} does not exist: create it or redeploy without it`);
    if (refs.length === 0) return { secrets: [] };
    const key = await this.#deps.keys.key();
    this.#deps.log.debug({ task: taskId, node: caller, secrets: refs.length }, 'secrets: handing a task its secrets');
    return {
      secrets: refs.map((ref) => ({
        name: ref.source,
        data: openSecret(key, ref.source, secrets[ref.source]!.data).toString('base64'),
      })),
    };
  }
}

function owner(ref: { target: string; uid: number; gid: number; mode: number }) {
  return { target: ref.target, uid: ref.uid, gid: ref.gid, mode: ref.mode };
}
