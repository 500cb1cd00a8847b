/**
 * The secret and config commands: the cluster data key's id (once), creating and removing
 * secrets and configs. A secret's `data` is sealed by the proposer with the cluster data key
 * (`src/security/data-key.ts`): the log and snapshots never hold its plaintext.
 * @module
 */
import type { CommandBase } from './commands.js';
import { checkData, checkFileObjectName, checkHex, checkOwnerStack, checkSize } from './secret-checks.js';
import type { PayloadCheck } from './workload-commands.js';

/** Record which data key seals the secrets: set once; a second, different id is refused. */
export interface SecretKeyCommand extends CommandBase {
  readonly type: 'secret.key';
  readonly keyId: string;
}

/** Fields of a create. */
interface FileObjectCreate extends CommandBase {
  readonly name: string;
  /** base64: the sealed value (secret) or the content (config). */
  readonly data: string;
  /** Tells an unchanged redeploy from a changed one without the plaintext (see secrets.ts). */
  readonly digest: string;
  readonly sizeBytes: number;
  /** The stack whose deploy created it; null for `shoal secret create`. */
  readonly stack: string | null;
}

export interface SecretCreateCommand extends FileObjectCreate {
  readonly type: 'secret.create';
  /** The data key `data` is sealed with: must be the cluster's. */
  readonly keyId: string;
}

export interface ConfigCreateCommand extends FileObjectCreate {
  readonly type: 'config.create';
}

/** Remove a secret or config no service uses. */
export interface FileObjectRemoveCommand extends CommandBase {
  readonly type: 'secret.remove' | 'config.remove';
  readonly name: string;
}

export type SecretCommand = SecretKeyCommand | SecretCreateCommand | ConfigCreateCommand | FileObjectRemoveCommand;

const CREATE_FIELDS = ['name', 'data', 'digest', 'sizeBytes', 'stack'];
const create = (c: Record<string, unknown>) => ({
  name: checkFileObjectName(c.name, 'name'),
  data: checkData(c.data, 'data'),
  digest: checkHex(c.digest, 'digest'),
  sizeBytes: checkSize(c.sizeBytes, 'sizeBytes'),
  stack: checkOwnerStack(c.stack, 'stack'),
});
const remove: PayloadCheck = { fields: ['name'], check: (c) => ({ name: checkFileObjectName(c.name, 'name') }) };

/** Payload checks of {@link SecretCommand}s, by type. */
export const SECRET_PAYLOADS: { readonly [T in SecretCommand['type']]: PayloadCheck } = {
  'secret.key': { fields: ['keyId'], check: (c) => ({ keyId: checkHex(c.keyId, 'keyId') }) },
  'secret.create': {
    fields: [...CREATE_FIELDS, 'keyId'],
    check: (c) => ({ ...create(c), keyId: checkHex(c.keyId, 'keyId') }),
  },
  'config.create': { fields: CREATE_FIELDS, check: create },
  'secret.remove': remove,
  'config.remove': remove,
};

export const SECRET_COMMAND_TYPES = Object.keys(SECRET_PAYLOADS) as readonly SecretCommand['type'][];
