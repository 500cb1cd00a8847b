import { runCli } from '../../src/cli/index.js';
import { formatEvent, parseFilters } from '../../src/cli/commands/events.js';
import { UsageError } from '../../src/cli/errors.js';
import type { ClusterEvent } from '../../src/events/index.js';
import { startHarness, type Harness } from '../api/harness.js';
import { deployWeb } from '../api/web-stack.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(argv: string[], now?: number): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCli([...argv, '--addr', `unix://${h.socketPath}`], {
    env: {},
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    fileExists: () => false,
    now: () => now ?? Date.now(),
  });
  return { code, out, err };
}

// Real agents (test/agent/support): three nodes, the API of alpha served, the `web` stack deployed.
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await deployWeb(h);
}, 30_000);
afterAll(async () => {
  await h.close();
});

describe('shoal events', () => {
  it('prints one line per event: time, index, type, action, name, message', async () => {
    const { code, out, err } = await cli(['events', '--filter', 'type=stack,type=service']);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z {2}\d+ +stack {4}deployed {3}web {9}stack web deployed: 2 created, 0 updated, 0 removed$/,
    );
    expect(lines.slice(1).map((l) => l.split(/ +/).slice(2, 5).join(' '))).toEqual([
      'service created web_agent',
      'service created web_api',
    ]);
  });

  it('filters by name (a stack name also matches its services and tasks) and prints JSON lines with -o json', async () => {
    const { code, out } = await cli(['events', '--filter', 'name=web_api', '-o', 'json']);
    expect(code).toBe(0);
    const events = out
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as ClusterEvent);
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events.every((e) => e.name.startsWith('web_api') || e.service === 'web_api')).toBe(true);
    expect(events.map((e) => `${e.type} ${e.action}`)).toContain('task running');
  });

  it('--since counts back from now; --index resumes', async () => {
    const later = await cli(['events', '--since', '10m'], Date.now() + 3_600_000);
    expect(later).toMatchObject({ code: 0, out: '' });
    const all = await cli(['events', '-o', 'json']);
    const events = all.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as ClusterEvent);
    const last = events[events.length - 1]!;
    const resumed = await cli(['events', '--index', String(last.index), '-o', 'json']);
    expect(
      resumed.out
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as ClusterEvent).index),
    ).toContain(last.index);
    expect(
      resumed.out
        .trimEnd()
        .split('\n')
        .every((l) => (JSON.parse(l) as ClusterEvent).index >= last.index),
    ).toBe(true);
  });

  it('refuses a bad filter with exit code 2, and the agent refuses an unknown type', async () => {
    const bad = await cli(['events', '--filter', 'kind=service']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--filter "kind=service": expected KEY=VALUE with KEY one of type, name/);
    const unknown = await cli(['events', '--filter', 'type=pods']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(
      /query\.type: expected one of cluster, node, leader, stack, service, task, job, secret, config, got "pods"/,
    );
  });
});

describe('parseFilters() and formatEvent()', () => {
  it.each([
    [['type=service,name=web'], { type: ['service'], name: ['web'] }],
    [['type=service,type=task', 'name=web'], { type: ['service', 'task'], name: ['web'] }],
    [[], { type: [], name: [] }],
  ])('parseFilters(%j)', (texts, expected) => {
    expect(parseFilters(texts)).toEqual(expected);
  });

  it.each(['type', 'type=', '=web', 'node=beta'])('parseFilters() refuses %j', (text) => {
    expect(() => parseFilters([text])).toThrow(UsageError);
  });

  it('formatEvent() aligns its columns', () => {
    const event: ClusterEvent = {
      index: 812,
      sub: 0,
      time: Date.UTC(2024, 4, 1, 10),
      type: 'service',
      action: 'scaled',
      name: 'web_api',
      message: 'service web_api scaled from 2 to 5 replicas',
    };
    expect(formatEvent(event)).toBe(
      '2024-05-01T10:00:00.000Z  812   service  scaled     web_api     service web_api scaled from 2 to 5 replicas\n',
    );
  });
});
