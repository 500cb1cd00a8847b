import { userInfo } from 'node:os';
import type { HistoryRow, JobInspectView, QueueRow, QuotaView } from '../../src/api/job-types.js';
import type { LogLine } from '../../src/api/types.js';
import { startFakeServer, runAgainst, type FakeServer } from './jobs-fake-server.js';

// START/END columns are local times: pin the zone so the expected tables hold anywhere.
process.env.TZ = 'UTC';

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);
const ME = userInfo().username;

function queueRow(extra: Partial<QueueRow> = {}): QueueRow {
  return {
    jobId: '17',
    name: 'train',
    owner: 'ana',
    namespace: 'ml',
    state: 'running',
    priority: 100,
    position: null,
    submittedAt: NOW - 7_200_000,
    startedAt: NOW - 3_723_000,
    endedAt: null,
    units: { total: 1, running: 1, pending: 0, done: 0, failed: 0 },
    nodes: ['alpha'],
    reason: '',
    display: '17',
    ...extra,
  };
}

const QUEUE: QueueRow[] = [
  queueRow(),
  queueRow({
    jobId: '18',
    display: '18_[0-99%10]',
    name: 'shards',
    owner: 'bob',
    namespace: 'default',
    startedAt: NOW - 90_061_000,
    units: { total: 100, running: 10, pending: 60, done: 30, failed: 0 },
    nodes: ['alpha', 'beta'],
  }),
  queueRow({
    jobId: '19',
    display: '19',
    name: 'report',
    state: 'pending',
    position: 1,
    startedAt: null,
    units: { total: 1, running: 0, pending: 1, done: 0, failed: 0 },
    nodes: [],
    reason: 'Dependency',
  }),
];

function historyRow(extra: Partial<HistoryRow> = {}): HistoryRow {
  return {
    id: '17',
    jobId: '17',
    name: 'train',
    owner: 'ana',
    namespace: 'ml',
    state: 'completed',
    submittedAt: NOW - 7_200_000,
    startedAt: NOW - 3_600_000,
    endedAt: NOW - 1_800_000,
    node: 'alpha',
    exitCode: 0,
    cpuMs: 3_540_000,
    peakMemoryBytes: 1_610_612_736,
    reason: '',
    ...extra,
  };
}

const HISTORY: HistoryRow[] = [
  historyRow(),
  historyRow({
    id: '20_3.1',
    jobId: '20',
    name: 'shards',
    state: 'running',
    startedAt: NOW - 65_000,
    endedAt: null,
    node: 'beta',
    exitCode: null,
    cpuMs: null,
    peakMemoryBytes: null,
  }),
];

const QUOTAS: QuotaView[] = [
  {
    namespace: 'ml',
    cpus: 64,
    memoryBytes: 256 * 1024 ** 3,
    gpus: 4,
    runningJobs: null,
    used: { cpus: 12.5, memoryBytes: 32 * 1024 ** 3, gpus: 2, runningJobs: 3 },
    usage: 12345.6,
  },
  {
    namespace: 'default',
    cpus: null,
    memoryBytes: null,
    gpus: null,
    runningJobs: 10,
    used: { cpus: 0, memoryBytes: 0, gpus: 0, runningJobs: 0 },
    usage: 0,
  },
];

let server: FakeServer;
beforeEach(async () => {
  server = await startFakeServer();
});
afterEach(async () => {
  await server.close();
});
const cli = (argv: string[]) => runAgainst(server, argv, NOW);

describe('shoal job submit', () => {
  beforeEach(() => server.answers.set('POST /v1/jobs', { json: { jobId: '17' } }));

  it('sends one POST /v1/jobs with the request and prints Slurm words', async () => {
    const run = await cli([
      'job',
      'submit',
      '-c',
      '2',
      '--mem',
      '4G',
      '-t',
      '1:30:00',
      '-a',
      '0-9%2',
      '--',
      'python',
      'x.py',
      '--lr',
      '3',
    ]);
    expect(run).toEqual({ code: 0, out: 'Submitted batch job 17\n', err: '' });
    expect(server.requests).toEqual([
      {
        method: 'POST',
        path: '/v1/jobs',
        query: {},
        body: {
          owner: ME,
          runtime: 'process',
          command: ['python', 'x.py', '--lr', '3'],
          workingDir: process.cwd(),
          cpus: 2,
          memory: '4G',
          time: '5400s',
          array: '0-9%2',
        },
      },
    ]);
  });

  it('--parsable and -q print the id alone; -o json the result', async () => {
    expect((await cli(['job', 'submit', '--parsable', '--', 'true'])).out).toBe('17\n');
    expect((await cli(['job', 'submit', '-q', '--image', 'alpine', '--', 'true'])).out).toBe('17\n');
    expect(JSON.parse((await cli(['job', 'submit', '-o', 'json', '--', 'true'])).out)).toEqual({ jobId: '17' });
    expect(server.requests[1]!.body).toEqual({ owner: ME, runtime: 'docker', image: 'alpine', command: ['true'] });
  });

  it('takes a command without `--` and --env repeatedly', async () => {
    await cli(['job', 'submit', '--env', 'A=1', '--env', 'B=2', 'hostname']);
    expect(server.requests[0]!.body).toMatchObject({ command: ['hostname'], env: { A: '1', B: '2' } });
  });

  it.each<[string[], RegExp]>([
    [['--', ''], /^shoal: no command to run/],
    [['-t', 'soon', '--', 'x'], /^shoal: --time "soon": expected a time limit/],
    [['--array', '5-1', '--', 'x'], /^shoal: --array "5-1": the range 5-1 runs backwards/],
    [['-d', 'before:3', '--', 'x'], /^shoal: --dependency "before:3": unknown type "before"/],
    [[], /^shoal: no command to run: put it after `--`/],
    [['--image', 'a', '--runtime', 'process', '--', 'x'], /leave out --runtime process/],
    [['python', 'x.py', '--lr', '3'], /^shoal: Unknown option '--lr' \(put the command to run after `--`\)/],
  ])('exits 2 without a request for %j', async (args, message) => {
    const run = await cli(['job', 'submit', ...args]);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(message);
    expect(run.err).toContain('Usage: shoal job submit [options] -- <command> [args...]');
    expect(server.requests).toEqual([]);
  });

  it('passes on an error the agent reports, with exit 1', async () => {
    server.answers.set('POST /v1/jobs', {
      status: 400,
      json: { error: { code: 'bad_request', message: 'job submit: 1 error(s), nothing submitted:\n--mem: too big' } },
    });
    const run = await cli(['job', 'submit', '--', 'x']);
    expect(run).toEqual({
      code: 1,
      out: '',
      err: 'shoal: job submit: 1 error(s), nothing submitted:\n--mem: too big\n',
    });
  });
});

describe('shoal queue', () => {
  beforeEach(() => server.answers.set('GET /v1/queue', { json: QUEUE }));

  it('prints squeue columns with Slurm times and done/total units, with the running and pending ones', async () => {
    const run = await cli(['queue']);
    expect(run.code).toBe(0);
    expect(run.out).toBe(
      'JOBID          NAME     OWNER   NS        STATE     TIME         UNITS                      NODES        REASON\n' +
        '17             train    ana     ml        RUNNING   1:02:03      0/1 (1 run)                alpha        -\n' +
        '18_[0-99%10]   shards   bob     default   RUNNING   1-01:01:01   30/100 (10 run, 60 pend)   alpha,beta   -\n' +
        '19             report   ana     ml        PENDING   0:00         0/1 (1 pend)               -            Dependency\n',
    );
    expect(server.requests).toEqual([{ method: 'GET', path: '/v1/queue', query: {}, body: undefined }]);
  });

  it('TIME of an ended job is its run time up to its end, not up to now', async () => {
    server.answers.set('GET /v1/queue', {
      json: [queueRow({ state: 'completed', startedAt: NOW - 7_200_000, endedAt: NOW - 7_197_000, nodes: [] })],
    });
    expect((await cli(['queue', '--all'])).out).toMatch(/^17 +train +ana +ml +COMPLETED +0:03 /m);
  });

  it('--all, -u, --me and --stale go in the query; -q prints ids; -o json the rows', async () => {
    await cli(['queue', '--all', '-u', 'bob', '--stale']);
    await cli(['queue', '--me']);
    expect(server.requests.map((r) => r.query)).toEqual([{ all: '1', owner: 'bob', stale: '1' }, { owner: ME }]);
    expect((await cli(['queue', '-q'])).out).toBe('17\n18\n19\n');
    expect(JSON.parse((await cli(['queue', '-o', 'json'])).out)).toEqual(QUEUE);
  });
});

describe('shoal job cancel', () => {
  it('posts the ids and prints those cancelled', async () => {
    server.answers.set('POST /v1/jobs/cancel', { json: { cancelled: ['17', '18_2'] } });
    expect(await cli(['job', 'cancel', '17', '18_2', '17'])).toEqual({ code: 0, out: '17\n18_2\n', err: '' });
    expect(server.requests).toEqual([
      { method: 'POST', path: '/v1/jobs/cancel', query: {}, body: { jobIds: ['17', '18_2'] } },
    ]);
  });

  it('exits 4 naming an id that was not cancelled, and 2 for a malformed id', async () => {
    server.answers.set('POST /v1/jobs/cancel', { json: { cancelled: ['17'] } });
    const run = await cli(['job', 'cancel', '17', '99']);
    expect(run.code).toBe(4);
    expect(run.out).toBe('17\n');
    expect(run.err).toMatch(/^shoal: job 99 was not cancelled: no such job, or it has already ended/);
    const bad = await cli(['job', 'cancel', 'abc']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^shoal: "abc" is not a job id/);
    expect(server.requests).toHaveLength(1);
  });

  it('exits 4 when the agent answers not_found', async () => {
    server.answers.set('POST /v1/jobs/cancel', {
      status: 404,
      json: { error: { code: 'not_found', message: 'no job 99: `shoal queue` lists them' } },
    });
    expect(await cli(['job', 'cancel', '99'])).toEqual({
      code: 4,
      out: '',
      err: 'shoal: no job 99: `shoal queue` lists them\n',
    });
  });
});

describe('shoal job history', () => {
  beforeEach(() => server.answers.set('GET /v1/jobs/history', { json: HISTORY }));

  it('prints sacct columns', async () => {
    const run = await cli(['job', 'history']);
    expect(run.code).toBe(0);
    expect(run.out).toBe(
      'JOBID    NAME     STATE       START                 END                   ELAPSED    NODE    EXITCODE   CPUTIME    MAXRSS\n' +
        '17       train    COMPLETED   2024-05-01T11:00:00   2024-05-01T11:30:00   00:30:00   alpha   0          00:59:00   1.5GiB\n' +
        '20_3.1   shards   RUNNING     2024-05-01T11:58:55   Running               00:01:05   beta    -          -          -\n',
    );
  });

  it('prints ELAPSED and CPUTIME as sacct does, [D-]HH:MM:SS, and 00:00:00 before the start', async () => {
    server.answers.set('GET /v1/jobs/history', {
      json: [
        historyRow({ startedAt: NOW - 3000, endedAt: NOW, cpuMs: 93_784_000 }),
        historyRow({
          id: '21',
          state: 'pending',
          startedAt: null,
          endedAt: null,
          node: null,
          exitCode: null,
          cpuMs: null,
          peakMemoryBytes: null,
        }),
      ],
    });
    const lines = (await cli(['job', 'history'])).out.split('\n');
    expect(lines[1]).toMatch(/ 00:00:03 +alpha +0 +1-02:03:04 +1\.5GiB$/);
    expect(lines[2]).toMatch(/ Unknown +Unknown +00:00:00 +- +- +- +-$/);
  });

  it('-n limits the rows printed, with or without a job id, even when the agent sends more', async () => {
    const rows = [historyRow({ id: '17' }), historyRow({ id: '17.0' }), historyRow({ id: '16' })];
    server.answers.set('GET /v1/jobs/history', { json: rows });
    const table = await cli(['job', 'history', '-n', '2']);
    expect(table.out.split('\n').filter((l) => /^\d/.test(l))).toHaveLength(2);
    const json = await cli(['job', 'history', '17', '-n', '1', '-o', 'json']);
    expect(JSON.parse(json.out)).toEqual([rows[0]]);
    expect(server.requests.map((r) => r.query)).toEqual([{ limit: '2' }, { job: '17', limit: '1' }]);
  });

  it('sends the job, --user and --limit; -o json prints the rows; a bad --limit exits 2', async () => {
    const json = await cli(['job', 'history', '17_3', '-u', 'ana', '--limit', '5', '--stale', '-o', 'json']);
    expect(JSON.parse(json.out)).toEqual(HISTORY);
    expect(server.requests[0]).toMatchObject({
      path: '/v1/jobs/history',
      query: { job: '17_3', owner: 'ana', limit: '5', stale: '1' },
    });
    expect((await cli(['job', 'history', '--limit', '0'])).code).toBe(2);
    expect((await cli(['job', 'history', 'x'])).code).toBe(2);
    expect(server.requests).toHaveLength(1);
  });
});

describe('shoal job inspect', () => {
  const view: JobInspectView = {
    job: {
      ...queueRow({ state: 'completed', units: { total: 1, running: 0, pending: 0, done: 1, failed: 0 } }),
      endedAt: NOW - 60_000,
      exitCode: 0,
    },
    runs: [historyRow()],
    spec: { command: ['python', 'x.py'] },
  };

  it('prints a summary and the runs; -o json the view; exits 4 for an unknown job', async () => {
    server.answers.set('GET /v1/jobs/17', { json: view });
    const run = await cli(['job', 'inspect', '17']);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/^JobId: +17$/m);
    expect(run.out).toMatch(/^State: +COMPLETED$/m);
    expect(run.out).toMatch(/^Units: +1 total, 0 running, 0 pending, 1 done, 0 failed$/m);
    expect(run.out).toMatch(/^Elapsed: +01:01:03$/m);
    expect(run.out).toMatch(/^17 +train +COMPLETED +2024-05-01T11:00:00/m);
    expect(JSON.parse((await cli(['job', 'inspect', '17', '-o', 'json'])).out)).toEqual(view);
    expect((await cli(['job', 'inspect', '18'])).code).toBe(4);
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /v1/jobs/17',
      'GET /v1/jobs/17',
      'GET /v1/jobs/18',
    ]);
  });
});

describe('shoal job logs', () => {
  const line = (text: string, extra: Partial<LogLine> = {}): LogLine => ({
    taskId: 't1',
    taskName: 'train.0',
    nodeId: '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo',
    stream: 'stdout',
    time: NOW,
    line: text,
    ...extra,
  });

  it('prints lines as written, stderr to stderr; --prefix and -t decorate them', async () => {
    server.answers.set('GET /v1/jobs/17/logs', { ndjson: [line('epoch 1'), line('warn', { stream: 'stderr' })] });
    expect(await cli(['job', 'logs', '17'])).toEqual({ code: 0, out: 'epoch 1\n', err: 'warn\n' });
    const decorated = await cli(['job', 'logs', '-p', '-t', '17']);
    expect(decorated.out).toBe('train.0@12D3KooWQYhTNQdm | 2024-05-01T12:00:00.000Z epoch 1\n');
  });

  it('sends index, follow and tail; 17_3 names index 3; -o json prints NDJSON', async () => {
    server.answers.set('GET /v1/jobs/17/logs', { ndjson: [line('a')] });
    await cli(['job', 'logs', '-f', '--index', '2', '--tail', '10', '17']);
    const json = await cli(['job', 'logs', '-o', 'json', '17_3']);
    expect(JSON.parse(json.out)).toEqual(line('a'));
    expect(server.requests.map((r) => [r.path, r.query])).toEqual([
      ['/v1/jobs/17/logs', { index: '2', follow: '1', tail: '10' }],
      ['/v1/jobs/17/logs', { index: '3' }],
    ]);
    expect((await cli(['job', 'logs', '--tail', 'x', '17'])).code).toBe(2);
  });
});

describe('shoal quota', () => {
  it('ls prints used/limit per resource', async () => {
    server.answers.set('GET /v1/quotas', { json: QUOTAS });
    expect((await cli(['quota', 'ls'])).out).toBe(
      'NAMESPACE   CPUS      MEMORY             GPUS   JOBS   USAGE\n' +
        'default     0/-       0B/-               0/-    0/10   0\n' +
        'ml          12.5/64   32.0GiB/256.0GiB   2/4    3/-    12346\n',
    );
  });

  it('set sends PUT with the limits; rm sends DELETE; bad input exits 2', async () => {
    server.answers.set('PUT /v1/quotas/ml', { json: QUOTAS[0] });
    server.answers.set('DELETE /v1/quotas/ml', { json: null });
    const set = await cli(['quota', 'set', 'ml', '--cpus', '64', '--mem', '256G', '--gpus', '4', '--jobs', '3']);
    expect(set.code).toBe(0);
    expect(set.out).toMatch(/^ml +12\.5\/64 /m);
    expect(await cli(['quota', 'rm', 'ml'])).toEqual({ code: 0, out: 'ml\n', err: '' });
    expect(server.requests).toEqual([
      { method: 'PUT', path: '/v1/quotas/ml', query: {}, body: { cpus: 64, memory: '256G', gpus: 4, runningJobs: 3 } },
      { method: 'DELETE', path: '/v1/quotas/ml', query: {}, body: undefined },
    ]);
    expect((await cli(['quota', 'set', 'ml'])).err).toMatch(/^shoal: nothing to set/);
    expect((await cli(['quota', 'set', 'ML', '--cpus', '1'])).code).toBe(2);
    expect(server.requests).toHaveLength(2);
  });
});
