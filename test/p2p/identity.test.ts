import { mkdtemp, readFile, rm, stat, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { IDENTITY_FILE, IdentityFileError, loadOrCreateIdentity } from '../../src/p2p/index.js';

describe('loadOrCreateIdentity()', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shoal-identity-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loadOrCreateIdentity() creates an Ed25519 key and returns the same peer id on the next start', async () => {
    const dataDir = join(dir, 'data'); // not there yet: created
    const first = await loadOrCreateIdentity(dataDir);
    expect(first.created).toBe(true);
    expect(first.privateKey.type).toBe('Ed25519');
    expect(first.peerId).toMatch(/^12D3KooW/);
    const second = await loadOrCreateIdentity(dataDir);
    expect(second.created).toBe(false);
    expect(second.peerId).toBe(first.peerId);
    expect(second.privateKey.equals(first.privateKey)).toBe(true);
  });

  it('loadOrCreateIdentity() writes the key with mode 0600 and leaves no temp file', async () => {
    const { path } = await loadOrCreateIdentity(dir);
    expect(path).toBe(join(dir, IDENTITY_FILE));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual([IDENTITY_FILE]);
  });

  it('loadOrCreateIdentity() reports a corrupt key file by name and does not replace it', async () => {
    const path = join(dir, IDENTITY_FILE);
    await writeFile(path, Buffer.from('definitely not a protobuf key'));
    const error = await loadOrCreateIdentity(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdentityFileError);
    expect((error as IdentityFileError).path).toBe(path);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(/not a valid libp2p private key/);
    expect((await readFile(path)).toString()).toBe('definitely not a protobuf key');
  });

  it('loadOrCreateIdentity() refuses a key that is not Ed25519', async () => {
    const path = join(dir, IDENTITY_FILE);
    await writeFile(path, privateKeyToProtobuf(await generateKeyPair('secp256k1')));
    await expect(loadOrCreateIdentity(dir)).rejects.toThrow(/secp256k1 key: shoal node keys are Ed25519/);
  });

  it('loadOrCreateIdentity() reports an unreadable key path', async () => {
    await writeFile(join(dir, 'file'), 'x');
    // <file>/identity.key: the data dir is a regular file, so reading fails with ENOTDIR.
    await expect(loadOrCreateIdentity(join(dir, 'file'))).rejects.toThrow(IdentityFileError);
  });
});
