/**
 * `npm run build` makes dist/shoal, a Node single executable: it runs the CLI and the agent on a
 * machine without Node (here: an empty environment, no node on PATH).
 */
import { jest } from '@jest/globals';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './support/agents.js';

jest.setTimeout(180_000);

const BINARY = join(process.cwd(), 'dist/shoal');
const bareEnv = { PATH: '/usr/bin:/bin' };

describe('dist/shoal (single executable)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-sea-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(() => {
    execFileSync('bash', ['scripts/build.sh'], { stdio: 'pipe' });
  });

  it('is one executable file that prints its version without Node on PATH', () => {
    expect(statSync(BINARY).mode & 0o111).not.toBe(0);
    const run = spawnSync(BINARY, ['version'], { env: bareEnv, cwd: dir, encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^shoal \d+\.\d+\.\d+/);
  });

  it('runs an agent that creates a cluster, and the CLI talks to it', async () => {
    const agent = spawn(
      BINARY,
      [
        'agent',
        '--data-dir',
        join(dir, 'n1'),
        '--listen',
        '/ip4/127.0.0.1/tcp/0',
        '--api',
        'none',
        '--init',
        '--log-level',
        'warn',
      ],
      // Its log, to say why when it stops answering (it once did, on CI only).
      { env: bareEnv, stdio: ['ignore', openSync(join(dir, 'agent.log'), 'w'), openSync(join(dir, 'agent.log'), 'a')] },
    );
    const agentLog = () =>
      `${readFileSync(join(dir, 'agent.log'), 'utf8').slice(-3000)}\n(agent exit: ${agent.exitCode ?? agent.signalCode ?? 'running'})`;
    try {
      let out = '';
      await waitFor(
        'status from the agent',
        () => {
          const run = spawnSync(BINARY, ['status', '-o', 'json', '--addr', `unix://${join(dir, 'n1/shoal.sock')}`], {
            env: bareEnv,
            encoding: 'utf8',
          });
          out = run.stdout;
          return run.status === 0 && (JSON.parse(out) as { initialized: boolean }).initialized;
        },
        30_000,
      );
      expect(JSON.parse(out)).toMatchObject({ initialized: true, role: 'leader' });
      // a deploy parses the Compose file in a worker thread, which the executable must start too
      writeFileSync(join(dir, 'compose.yml'), 'services:\n  web:\n    image: busybox:1\n');
      const deploy = spawnSync(
        BINARY,
        [
          'stack',
          'deploy',
          '-f',
          'compose.yml',
          '--name',
          'demo',
          '-o',
          'json',
          '--addr',
          `unix://${join(dir, 'n1/shoal.sock')}`,
        ],
        { env: bareEnv, cwd: dir, encoding: 'utf8' },
      );
      expect({ code: deploy.status, stderr: deploy.stderr, agent: deploy.status === 0 ? '' : agentLog() }).toEqual({
        code: 0,
        stderr: '',
        agent: '',
      });
      expect(JSON.parse(deploy.stdout)).toMatchObject({
        stack: 'demo',
        services: [{ name: 'web', change: 'created' }],
      });
    } finally {
      agent.kill('SIGKILL');
    }
  });
});
