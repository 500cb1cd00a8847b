/**
 * Secrets across separate machines (test/support/testbed.ts): a secret created on one node
 * reaches its task's container on another node's engine as /run/secrets/<name>, on tmpfs,
 * read-only, with the mode asked for, and never comes out of the API or the agents' logs. Needs
 * root and Docker; skipped otherwise.
 */
import { jest } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE, BUNDLE, waitFor } from '../agent/support/agents.js';
import { TestBed } from '../support/testbed.js';
import { formCluster } from '../support/testbed-cluster.js';

jest.setTimeout(240_000);

const IMAGE = 'shoal-test/busybox:latest';
const canRun = process.getuid?.() === 0 && ['/usr/sbin/dockerd', '/usr/bin/dockerd'].some((p) => existsSync(p));
if (!canRun) console.warn('test/testbed/secrets.test.ts skipped: it needs root and dockerd (a test bed of engines)');

const PASSWORD = 'tb-db-pass-6c1e8a';
const TLS_KEY = 'tls-key-material-0b4d';

interface TaskRow {
  readonly serviceId: string;
  readonly nodeId: string | null;
  readonly state: string;
}

(canRun ? describe : describe.skip)('secrets on separate machines (own namespaces and engines)', () => {
  let root = '';
  let bed: TestBed;
  const logs = () =>
    bed.nodes
      .map(
        (n) => `[n${n.index + 1}]\n${readTail(join(n.dataDir, '..', 'agent.log'))}\n[engine]\n${n.engine.logTail(800)}`,
      )
      .join('\n');
  const cli = (args: readonly string[], input?: string) =>
    execFileSync(NODE, [BUNDLE, ...args], {
      env: { ...process.env, SHOAL_ADDR: `unix://${bed.nodes[0]!.socket}` },
      encoding: 'utf8',
      input,
    });
  const inDb = (args: readonly string[]) => {
    const id = bed.nodes[2]!.engine.docker(['ps', '-q', '--filter', 'label=shoal.service.id=tb_db']).trim();
    return bed.nodes[2]!.engine.docker(['exec', id, ...args]);
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'shoal-testbed-secrets-'));
    bed = TestBed.create(3, root);
    execFileSync('bash', ['scripts/build-test-image.sh', IMAGE], { stdio: 'ignore' });
    await bed.up([IMAGE]);
    const flags = ['--tick-ms', '50'];
    await formCluster(bed, flags, logs);
  });

  afterAll(async () => {
    await bed?.down();
    // The agents' (empty by now) tmpfs trees: agents killed by down() leave them.
    for (const n of bed?.nodes ?? []) {
      const hash = createHash('sha256').update(n.dataDir).digest('hex').slice(0, 12);
      for (const base of ['/run', '/dev/shm'])
        rmSync(join(base, `shoal-files-${hash}`), { recursive: true, force: true });
    }
  });

  it("reaches its task's container on another node as /run/secrets/<name>, on tmpfs, read-only", async () => {
    expect(cli(['secret', 'create', 'db_password', '-'], PASSWORD)).toBe('db_password\n');
    writeFileSync(join(root, 'tls.key'), TLS_KEY);
    const compose = join(root, 'db.yml');
    writeFileSync(
      compose,
      [
        'services:',
        '  db:',
        `    image: ${IMAGE}`,
        '    command: ["sleep", "3600"]',
        '    deploy:',
        '      placement:',
        '        constraints: [node.hostname == n3]',
        '    secrets:',
        '      - db_password',
        '      - source: tls',
        '        target: /etc/tls/key.pem',
        '        mode: 0400',
        'secrets:',
        '  db_password:',
        '    external: true',
        '  tls:',
        '    file: ./tls.key',
        '',
      ].join('\n'),
    );
    cli(['stack', 'deploy', '-f', compose, 'tb']);
    await waitFor(
      'the db task running on n3',
      async () => {
        const tasks = (await bed.api<TaskRow[]>(0, '/v1/stacks/tb/tasks')) ?? [];
        return tasks.some((t) => t.serviceId === 'tb_db' && t.state === 'running');
      },
      60_000,
      logs,
    );
    expect(inDb(['cat', '/run/secrets/db_password'])).toBe(PASSWORD);
    expect(inDb(['cat', '/etc/tls/key.pem'])).toBe(TLS_KEY);
    expect(inDb(['stat', '-c', '%a', '/etc/tls/key.pem']).trim()).toBe('400');
    const mount = inDb(['cat', '/proc/mounts'])
      .split('\n')
      .find((line) => line.split(' ')[1] === '/run/secrets/db_password');
    expect(mount).toMatch(/^\S+ \/run\/secrets\/db_password tmpfs ro[, ]/);
    // Only n3's engine runs it: the other engines never had a container with the secret.
    for (const i of [0, 1]) expect(bed.nodes[i]!.engine.docker(['ps', '-aq']).trim()).toBe('');
  });

  it('is unreadable through the API and absent from every agent log', async () => {
    const shown = [
      cli(['secret', 'ls', '-o', 'json']),
      cli(['secret', 'inspect', 'db_password', '-o', 'json']),
      cli(['secret', 'inspect', 'tb_tls']),
      cli(['service', 'inspect', 'tb_db', '-o', 'json']),
      JSON.stringify(await bed.api(1, '/v1/secrets/db_password')),
      JSON.stringify(await bed.api(2, '/v1/stacks/tb/tasks')),
    ].join('\n');
    expect(shown).toContain('db_password');
    for (const value of [PASSWORD, TLS_KEY]) {
      expect(shown).not.toContain(value);
      expect(shown).not.toContain(Buffer.from(value).toString('base64'));
    }
    for (const n of bed.nodes) {
      const log = readFileSync(join(n.dataDir, '..', 'agent.log'), 'utf8');
      expect(log).not.toContain(PASSWORD);
      expect(log).not.toContain(TLS_KEY);
    }
  });

  it("removes the task's tmpfs directory with its container", async () => {
    const dataDir = bed.nodes[2]!.dataDir;
    const hash = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
    const dir = ['/run', '/dev/shm'].map((base) => join(base, `shoal-files-${hash}`, 'docker')).find(existsSync);
    expect(dir).toBeDefined();
    expect(readdirSync(dir!)).toHaveLength(1);
    cli(['stack', 'rm', 'tb']);
    await waitFor('the container and its secrets gone', async () => readdirSync(dir!).length === 0, 60_000, logs);
    expect(bed.nodes[2]!.engine.docker(['ps', '-aq']).trim()).toBe('');
  });
});

function readTail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').slice(-1500) : '(no log)';
}
