import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { TaskView } from '../../src/api/index.js';
import {
  NotShoalAgentError,
  nodeCell,
  parseAgentAnswer,
  portsCell,
  renderTasks,
  runCli,
  tooLargeMessage,
} from '../../src/cli/index.js';

const ROOT = join(import.meta.dirname, '../..');
const NOW = 1_700_000_000_000;
const NODE_A = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo';

function task(extra: Partial<TaskView>): TaskView {
  return {
    id: 'tapi1xxxxxxxxxxxxxxxxxxxx',
    serviceId: 'web_api',
    name: 'web_api.1',
    image: 'nginx:1.25',
    nodeId: NODE_A,
    nodeHostname: 'lab1',
    desiredState: 'running',
    state: 'running',
    stateSince: NOW - 120_000,
    message: '',
    exitCode: null,
    restarts: 0,
    ...extra,
  };
}

/** Run the CLI as a process (tsx), with its stdout either read or closed before it writes. */
function runProcess(
  argv: string[],
  stdout: 'read' | 'closed',
): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/bin.ts'), ...argv], {
    cwd: ROOT,
    env: { ...process.env, SHOAL_ADDR: '', SHOAL_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  if (stdout === 'closed') child.stdout.destroy();
  else child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, out, err })));
}

describe('renderTasks()', () => {
  it('renderTasks() shows why a pending task waits in ERROR', () => {
    const pending = task({
      nodeId: null,
      nodeHostname: null,
      state: 'pending',
      message: 'no suitable node (insufficient cpu on 3 nodes)',
    });
    const [, row] = renderTasks([pending], { noTrunc: false, now: NOW }).trimEnd().split('\n');
    expect(row).toMatch(/Pending 2 minutes ago +"no suitable node \(insufficient cpu on 3 nodes\)"$/);
  });

  it('renderTasks() tells apart two agents on one machine in NODE', () => {
    const other = '12D3KooWAbCdEfGhr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo';
    const text = renderTasks([task({}), task({ id: 'tapi2xxxxxxxxx', name: 'web_api.2', nodeId: other })], {
      noTrunc: false,
      now: NOW,
    });
    expect(text).toContain('lab1 (12D3KooWQYhTNQdm)');
    expect(text).toContain('lab1 (12D3KooWAbCdEfGh)');
  });

  it('renderTasks() with wide adds the full node id, container and ports', () => {
    const ports = [
      { published: 8080, target: 80, protocol: 'tcp', hostIp: null },
      { published: null, target: 9000, protocol: 'udp', hostIp: null },
    ];
    const text = renderTasks([task({ containerId: 'c0ffee123456789abcdef', ports })], {
      noTrunc: false,
      now: NOW,
      wide: true,
    });
    const [header, row] = text.trimEnd().split('\n');
    expect(header).toMatch(/^ID +NAME +IMAGE +NODE +NODE ID +DESIRED STATE +CURRENT STATE +CONTAINER +PORTS +ERROR$/);
    expect(row).toMatch(
      new RegExp(
        `^tapi1x{20} +web_api\\.1 +nginx:1\\.25 +lab1 +${NODE_A} +Running +Running 2 minutes ago +c0ffee123456 +\\*:8080->80/tcp, 9000/udp$`,
      ),
    );
  });

  it.each([
    ['lab1', NODE_A, false, 'lab1 (12D3KooWQYhTNQdm)'],
    [null, NODE_A, false, '12D3KooWQYhTNQdm'],
    ['lab1', NODE_A, true, `lab1 (${NODE_A})`],
    [null, null, false, ''],
  ] as const)('nodeCell(%j, …, noTrunc %j) is %j', (hostname, id, noTrunc, expected) => {
    expect(nodeCell(hostname, id, noTrunc)).toBe(expected);
  });

  it('portsCell() writes host address, published and target ports', () => {
    expect(portsCell([{ published: 53, target: 53, protocol: 'udp', hostIp: '127.0.0.1' }])).toBe(
      '127.0.0.1:53->53/udp',
    );
    expect(portsCell(undefined)).toBe('');
  });
});

describe('CLI messages', () => {
  it('runCli() says a negative number is not valid for the flag, not that it is "ambiguous"', async () => {
    let err = '';
    const io = { env: {}, stdout: { write: () => true }, stderr: { write: (t: string) => (err += t) } };
    expect(await runCli(['job', 'submit', '-c', '-1', '--', 'true'], io)).toBe(2);
    expect(err).toMatch(/^shoal: -c -1: negative values are not valid for -c \(--cpus\); give 0 or more\n/);
  });

  it('tooLargeMessage() says what was too large, the limit in MB and what to do', () => {
    expect(
      tooLargeMessage('body: larger than the limit of 4194304 bytes', {
        what: 'the Compose file compose.yml with its env files',
        size: 5 * 1024 * 1024,
      }),
    ).toBe(
      'the Compose file compose.yml with its env files is too large to send: 5 MB, and the agent accepts at most 4 MB; ' +
        'keep large data out of it (bind-mount files or use a volume instead of inlining them in the request)',
    );
  });

  it("parseAgentAnswer() refuses another program's error answer as not a shoal agent", () => {
    expect(() => parseAgentAnswer(404, '{"message":"page not found"}', 'unix:///var/run/docker.sock')).toThrow(
      NotShoalAgentError,
    );
    expect(parseAgentAnswer(404, '{"error":{"code":"not_found","message":"No node x"}}', 'x')).toEqual({
      error: { code: 'not_found', message: 'No node x' },
    });
  });
});

describe('the CLI process', () => {
  it('exits quietly with 0 when the reader of its output goes away (shoal help | head -0)', async () => {
    const { code, err } = await runProcess(['help'], 'closed');
    expect(err).toBe('');
    expect(code).toBe(0);
  }, 30_000);

  it('exits 3 (unreachable) when --addr answers but is not a shoal agent', async () => {
    const server = createServer((_req, res) =>
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const { code, err } = await runProcess(['node', 'ls', '--addr', `127.0.0.1:${port}`], 'read');
      expect(err).toMatch(
        /^shoal: cannot reach the shoal agent at 127\.0\.0\.1:\d+: it answered HTTP 404 with something that is not JSON/,
      );
      expect(code).toBe(3);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }, 30_000);
});
