import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApiError } from '../../src/api/types.js';
import type { TaskFile } from '../../src/runtime/index.js';
import { fileObjectsOf } from '../../src/state/secrets.js';
import { InProcessCluster, type InProcessAgent } from './support/in-process-cluster.js';

const PASSWORD = 'pg-Secret-9f3a1c';
const TLS_KEY = '-----BEGIN KEY----- not-really-a-key';
const b64 = (text: string) => Buffer.from(text).toString('base64');

const COMPOSE = `services:
  db:
    image: postgres:17
    deploy:
      placement:
        constraints: [node.hostname == gamma]
    secrets:
      - db_password
      - source: tls
        target: /etc/ssl/private/key.pem
        uid: "70"
        gid: "70"
        mode: 0400
    configs: [pg_conf]
secrets:
  db_password:
    external: true
  tls:
    file: ./tls.key
configs:
  pg_conf:
    environment: PG_CONF
`;

describe('secrets and configs on in-process agents', () => {
  let cluster: InProcessCluster;
  let follower: InProcessAgent;
  let gamma: InProcessAgent;
  beforeAll(async () => {
    cluster = await InProcessCluster.start({ nodes: 3 });
    follower = cluster.agents.find((a) => a !== cluster.leader())!;
    gamma = cluster.agents.find((a) => a.name === 'gamma')!;
  }, 30_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('a task on another node receives its secret and config files through the driver', async () => {
    await follower.agent.api.createFileObject('secret', { name: 'db_password', data: b64(PASSWORD) });
    const deployed = await follower.agent.api.deployStack({
      name: 'shop',
      compose: COMPOSE,
      file: 'compose.yml',
      env: { PG_CONF: 'max_connections = 20' },
      files: { 'tls.key': TLS_KEY },
    });
    expect(JSON.stringify(deployed)).not.toContain(PASSWORD);

    await cluster.until('the db task created on gamma', () => [...gamma.driver.created.values()].length > 0, 15_000);
    const [assignment] = [...gamma.driver.created.values()];
    const files = (assignment!.files ?? []).map((f: TaskFile) => ({ ...f, data: Buffer.from(f.data).toString() }));
    expect(files).toEqual([
      {
        kind: 'config',
        name: 'shop_pg_conf',
        target: '/pg_conf',
        uid: 0,
        gid: 0,
        mode: 0o444,
        data: 'max_connections = 20',
      },
      {
        kind: 'secret',
        name: 'db_password',
        target: '/run/secrets/db_password',
        uid: 0,
        gid: 0,
        mode: 0o444,
        data: PASSWORD,
      },
      {
        kind: 'secret',
        name: 'shop_tls',
        target: '/etc/ssl/private/key.pem',
        uid: 70,
        gid: 70,
        mode: 0o400,
        data: TLS_KEY,
      },
    ]);
    // The other nodes run no task of it and were handed nothing.
    for (const other of cluster.agents.filter((a) => a !== gamma)) expect(other.driver.created.size).toBe(0);
  }, 30_000);

  it('the API never shows a secret value: ls, inspect, the service, -o json alike', async () => {
    const api = cluster.agents[0]!.agent.api;
    const shown = JSON.stringify([
      await api.listFileObjects('secret'),
      await api.inspectFileObject('secret', 'db_password'),
      await api.inspectFileObject('secret', 'shop_tls'),
      await api.inspectService('shop_db'),
      await api.listServices(),
    ]);
    for (const value of [PASSWORD, TLS_KEY, b64(PASSWORD), b64(TLS_KEY)]) expect(shown).not.toContain(value);
    expect(await api.inspectFileObject('secret', 'db_password')).toEqual({
      name: 'db_password',
      kind: 'secret',
      sizeBytes: PASSWORD.length,
      stack: null,
      createdAt: expect.any(Number),
      usedBy: ['shop_db'],
    });
    // A config's content is not secret: inspect shows it.
    expect(await api.inspectFileObject('config', 'shop_pg_conf')).toMatchObject({
      content: 'max_connections = 20',
      stack: 'shop',
    });
  });

  it("no agent's replicated state or snapshot holds a secret's plaintext", () => {
    for (const a of cluster.agents) {
      const snapshot = Buffer.from(a.agent.store.state.snapshot());
      for (const value of [PASSWORD, TLS_KEY]) expect(snapshot.includes(Buffer.from(value))).toBe(false);
      expect(Object.keys(fileObjectsOf(a.agent.store.state.view()).secrets).sort()).toEqual([
        'db_password',
        'shop_tls',
      ]);
    }
  });

  it('refuses to change or remove a secret in use, without echoing the value', async () => {
    const api = follower.agent.api;
    const change = api.createFileObject('secret', { name: 'db_password', data: b64('another-password') });
    await expect(change).rejects.toMatchObject({
      status: 409,
      message: expect.stringMatching(/create one under a new name/),
    });
    const remove = api.removeFileObject('secret', 'db_password');
    await expect(remove).rejects.toBeInstanceOf(ApiError);
    await expect(remove).rejects.toMatchObject({ status: 409, message: expect.stringContaining('in use by shop_db') });
    const redeploy = api.deployStack({
      name: 'shop',
      compose: COMPOSE,
      file: 'compose.yml',
      env: { PG_CONF: 'max_connections = 20' },
      files: { 'tls.key': 'a changed key' },
    });
    await expect(redeploy).rejects.toMatchObject({
      status: 409,
      message: expect.stringMatching(/shop_tls exists with another value/),
    });
    await redeploy.catch((error: Error) => expect(error.message).not.toContain('a changed key'));
  });

  it('refuses a deploy naming an external secret that does not exist', async () => {
    const compose = 'services:\n  s:\n    image: i\n    secrets: [nope]\nsecrets:\n  nope: {external: true}\n';
    await expect(
      follower.agent.api.deployStack({ name: 'other', compose, file: 'compose.yml', env: {} }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringContaining('external secret nope does not exist') });
  });

  it("stack rm removes the stack's own secrets and configs; one made with the CLI stays until rm", async () => {
    const api = follower.agent.api;
    await api.removeStack('shop');
    expect((await api.listFileObjects('secret')).map((s) => s.name)).toEqual(['db_password']);
    expect(await api.listFileObjects('config')).toEqual([]);
    await api.removeFileObject('secret', 'db_password');
    expect(await api.listFileObjects('secret')).toEqual([]);
  });
});
