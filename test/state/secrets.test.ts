import {
  configDigest,
  createDataKey,
  dataKeyId,
  openSecret,
  sealSecret,
  secretDigest,
} from '../../src/security/index.js';
import { ClusterStateMachine, decodeState, encodeCommand, type Command } from '../../src/state/index.js';
import type { SecretCreateCommand } from '../../src/state/secret-commands.js';
import { fileObjectsOf } from '../../src/state/secrets.js';
import { T0, init, register } from './helpers.js';
import { applyAll, applyNext, deployOf, stackSpec } from './workload-helpers.js';

const key = createDataKey();
const keyId = dataKeyId(key);
const PLAINTEXT = 'correct horse battery staple';

function secretCreate(name: string, value: string, at: number): SecretCreateCommand {
  const bytes = Buffer.from(value);
  return {
    v: 1,
    type: 'secret.create',
    name,
    data: sealSecret(key, name, bytes),
    digest: secretDigest(key, name, bytes),
    sizeBytes: bytes.length,
    stack: null,
    keyId,
    at,
  };
}

function configCreate(name: string, value: string, at: number): Command {
  const bytes = Buffer.from(value);
  const data = bytes.toString('base64');
  return {
    v: 1,
    type: 'config.create',
    name,
    data,
    digest: configDigest(bytes),
    sizeBytes: bytes.length,
    stack: null,
    at,
  };
}

const USES = stackSpec(
  `services:
  db:
    image: postgres
    secrets: [pw]
    configs: [conf]
secrets:
  pw: {external: true, name: db_pw}
configs:
  conf: {external: true, name: pg_conf}
`,
  'shop',
);

/** A cluster with its data key recorded and one secret and one config. */
function withObjects(): ClusterStateMachine {
  const machine = new ClusterStateMachine();
  applyAll(machine, [
    init(),
    register(1),
    { v: 1, type: 'secret.key', keyId, at: T0 + 1 },
    secretCreate('db_pw', PLAINTEXT, T0 + 2),
    configCreate('pg_conf', 'max_connections = 20\n', T0 + 3),
  ]);
  return machine;
}

describe('secrets in the replicated state', () => {
  it('secret.create puts only sealed bytes in the log: the plaintext is in no encoded command', () => {
    const bytes = Buffer.from(encodeCommand(secretCreate('db_pw', PLAINTEXT, T0)));
    expect(bytes.includes(Buffer.from(PLAINTEXT))).toBe(false);
    expect(bytes.toString('latin1')).not.toContain(Buffer.from(PLAINTEXT).toString('base64'));
  });

  it('keeps the sealed value, which opens with the data key only', () => {
    const record = fileObjectsOf(withObjects().view()).secrets.db_pw!;
    expect(record).toMatchObject({ name: 'db_pw', sizeBytes: PLAINTEXT.length, stack: null, createdAt: T0 + 2 });
    expect(openSecret(key, 'db_pw', record.data).toString()).toBe(PLAINTEXT);
    expect(() => openSecret(createDataKey(), 'db_pw', record.data)).toThrow(/another data key/);
    expect(() => openSecret(key, 'other_name', record.data)).toThrow(/another data key/);
  });

  it('round-trips through a snapshot, which does not hold the plaintext either', () => {
    const machine = withObjects();
    const snapshot = machine.snapshot();
    expect(Buffer.from(snapshot).includes(Buffer.from(PLAINTEXT))).toBe(false);
    const decoded = decodeState(snapshot).state;
    expect(fileObjectsOf(decoded)).toEqual(fileObjectsOf(machine.view()));
    const restored = new ClusterStateMachine();
    restored.restore(snapshot, machine.appliedIndex);
    expect(Buffer.from(restored.snapshot()).equals(Buffer.from(snapshot))).toBe(true);
  });

  it('loads a snapshot written before secrets existed (no fileObjects) as having none', () => {
    const machine = new ClusterStateMachine();
    applyAll(machine, [init(), register(1)]);
    const snapshot = machine.snapshot();
    const state = decodeState(snapshot).state;
    expect('fileObjects' in state).toBe(false);
    expect(fileObjectsOf(state)).toEqual({ keyId: null, secrets: {}, configs: {} });
  });

  it('records the data key id once: a different one is refused, the same one is a no-op', () => {
    const machine = withObjects();
    const other = dataKeyId(createDataKey());
    expect(applyNext(machine, { v: 1, type: 'secret.key', keyId: other, at: T0 + 9 })).toMatchObject({
      ok: false,
      error: `secret.key: the secrets are sealed with data key ${keyId} already: fetch it from a member`,
    });
    expect(applyNext(machine, { v: 1, type: 'secret.key', keyId, at: T0 + 9 }).ok).toBe(true);
  });

  it('refuses a secret sealed with another key than the recorded one', () => {
    const machine = withObjects();
    const command = { ...secretCreate('x', 'y', T0 + 9), keyId: dataKeyId(createDataKey()) };
    const result = applyNext(machine, command);
    expect(result.ok).toBe(false);
  });

  it('is not updated in place (rotation is a new name), but an identical create is a no-op', () => {
    const machine = withObjects();
    expect(applyNext(machine, secretCreate('db_pw', PLAINTEXT, T0 + 9)).ok).toBe(true);
    const changed = applyNext(machine, secretCreate('db_pw', 'new password', T0 + 10));
    expect(changed).toMatchObject({
      ok: false,
      error:
        'secret.create: secret db_pw exists with another value: secrets cannot be changed; create one under a new name and redeploy with it',
    });
    expect(JSON.stringify(changed)).not.toContain('new password');
  });

  it('refuses to remove a secret or config a service uses, and removes it once none does', () => {
    const machine = withObjects();
    applyAll(machine, [deployOf(USES, T0 + 10)]);
    expect(applyNext(machine, { v: 1, type: 'secret.remove', name: 'db_pw', at: T0 + 11 })).toMatchObject({
      ok: false,
      error: 'secret.remove: secret db_pw is in use by shop_db: deploy them without it (or remove them) first',
    });
    expect(applyNext(machine, { v: 1, type: 'config.remove', name: 'pg_conf', at: T0 + 11 }).ok).toBe(false);
    applyAll(machine, [{ v: 1, type: 'stack.remove', name: 'shop', at: T0 + 12 }]);
    applyAll(machine, [
      { v: 1, type: 'secret.remove', name: 'db_pw', at: T0 + 13 },
      { v: 1, type: 'config.remove', name: 'pg_conf', at: T0 + 13 },
    ]);
    expect(fileObjectsOf(machine.view())).toEqual({ keyId, secrets: {}, configs: {} });
  });

  it('refuses names Docker refuses and values over 500 KB at validation', () => {
    expect(() => encodeCommand({ ...secretCreate('x', 'y', T0), name: 'no spaces' })).toThrow(/name/);
    expect(() => encodeCommand({ ...secretCreate('x', 'y', T0), sizeBytes: 500 * 1024 + 1 })).toThrow(/sizeBytes/);
  });
});
