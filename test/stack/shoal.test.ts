import { describe, expect, it } from '@jest/globals';
import { cronError, parseArray } from '../../src/stack/index.js';
import { oneService, parseErrors, parseOk, service } from './helpers.js';

describe('parseStack() x-shoal scheduling keys', () => {
  it('defaults priority by kind so services outrank batch', () => {
    expect(service('').scheduling).toEqual({
      priority: 500,
      strategy: 'spread',
      affinity: [],
      namespace: 'default',
      owner: null,
      gang: false,
      preemptible: false,
    });
    expect(service('x-shoal:\n  kind: job').scheduling.priority).toBe(100);
  });

  it('reads priority, strategy, namespace, owner and affinity', () => {
    const text = `x-shoal:
  namespace: research
  owner: alice
services:
  db:
    image: pg
  cache:
    image: redis
  s:
    image: img
    x-shoal:
      priority: 900
      strategy: binpack
      affinity:
        - db
      anti_affinity:
        - service: cache
          required: false
          weight: 30
        - other-stack/web
`;
    const spec = parseOk(text);
    expect(spec.namespace).toBe('research');
    expect(spec.services.s!.scheduling).toEqual({
      priority: 900,
      strategy: 'binpack',
      affinity: [
        { service: 'db', anti: false, required: true, weight: 100 },
        { service: 'cache', anti: true, required: false, weight: 30 },
        { service: 'other-stack/web', anti: true, required: true, weight: 100 },
      ],
      namespace: 'research',
      owner: 'alice',
      gang: false,
      preemptible: false,
    });
    expect(spec.services.db!.scheduling.owner).toBe('alice');
  });

  it.each([
    ['x-shoal:\n  priority: 5000', /x-shoal.priority: expected an integer between 0 and 1000, got 5000/],
    ['x-shoal:\n  strategy: random', /expected one of spread, binpack, got "random"/],
    ['x-shoal:\n  affinity: [ghost]', /service "ghost" is not defined/],
    ['x-shoal:\n  affinity: [s]', /cannot have affinity to itself/],
    ['x-shoal:\n  kind: daemon', /expected one of service, job, cron, got "daemon"/],
    ['x-shoal:\n  namespace: Big_NS', /expected lowercase letters, digits and dashes/],
    ['x-shoal:\n  gang: true', /gang applies to jobs and cron services/],
    ['x-shoal:\n  job: {completions: 2}', /job settings need x-shoal.kind: job or cron \(this service is replicated\)/],
    ['x-shoal:\n  kind: job\n  cron: {schedule: "@daily"}', /cron settings need x-shoal.kind: cron/],
    ['x-shoal:\n  kind: job\ndeploy:\n  mode: global', /cannot run with mode: global/],
    [
      'x-shoal:\n  kind: job\ndeploy:\n  restart_policy: {condition: any}',
      /a job runs to completion: use condition on-failure or none/,
    ],
  ])('%s is reported', (body, message) => {
    expect(parseErrors(oneService(body)).join('\n')).toMatch(message);
  });
});

describe('parseStack() jobs', () => {
  it('defaults a job: one completion, one at a time, restart on failure', () => {
    const s = service('x-shoal:\n  kind: job');
    expect(s.kind).toBe('job');
    expect(s.job).toEqual({
      completions: 1,
      parallelism: 1,
      retries: 0,
      backoff: { initialMs: 10_000, maxMs: 300_000, factor: 2 },
      timeLimitMs: 0,
      requeue: true,
      array: null,
      dependencies: [],
    });
    expect(s.deploy.restartPolicy.condition).toBe('on-failure');
  });

  it('keeps on-failure as a job default when restart_policy sets other fields', () => {
    const r = service('x-shoal:\n  kind: job\ndeploy:\n  restart_policy: {max_attempts: 2}').deploy.restartPolicy;
    expect([r.condition, r.maxAttempts]).toEqual(['on-failure', 2]);
  });

  it('reads Compose replicated-job mode as a job whose replicas run at once', () => {
    const s = service('deploy:\n  mode: replicated-job\n  replicas: 4');
    expect([s.kind, s.job?.parallelism, s.deploy.replicas]).toEqual(['job', 4, 0]);
  });

  it('reads every job key, with both dependency syntaxes', () => {
    const text = `services:
  a: {image: i, x-shoal: {kind: job}}
  b: {image: i, x-shoal: {kind: job}}
  c: {image: i, x-shoal: {kind: job}}
  s:
    image: i
    x-shoal:
      kind: job
      gang: true
      job:
        completions: 8
        parallelism: 4
        retries: 2
        backoff: {initial: 1s, max: 1m, factor: 3}
        time_limit: 1h30m
        dependencies:
          afterok: [a, b]
          afternotok: c
  t:
    image: i
    x-shoal:
      kind: job
      job:
        dependencies: ["afterany:a", "afterok:other/etl"]
`;
    const spec = parseOk(text);
    expect(spec.services.s!.job).toEqual({
      completions: 8,
      parallelism: 4,
      retries: 2,
      backoff: { initialMs: 1000, maxMs: 60_000, factor: 3 },
      timeLimitMs: 5_400_000,
      requeue: true,
      array: null,
      dependencies: [
        { type: 'afternotok', job: 'c' },
        { type: 'afterok', job: 'a' },
        { type: 'afterok', job: 'b' },
      ],
    });
    expect(spec.services.s!.scheduling.gang).toBe(true);
    expect(spec.services.t!.job!.dependencies).toEqual([
      { type: 'afterany', job: 'a' },
      { type: 'afterok', job: 'other/etl' },
    ]);
  });

  it.each([
    ['dependencies: {afterok: [web]}', /"web" is a replicated service; job dependencies name jobs/],
    ['dependencies: {afterok: [ghost]}', /job "ghost" is not defined/],
    ['dependencies: {after: [a]}', /unsupported key "after"/],
    ['dependencies: ["before:a"]', /expected "afterok:<job>"/],
    ['array: 0-9\n    completions: 3', /an array job completes once per index \(10\); remove completions/],
    ['array: 9-0', /range "9-0" runs backwards/],
    ['backoff: {initial: 1m, max: 1s}', /max must be >= initial/],
    ['time_limit: forever', /expected a duration such as 10s/],
    ['time_limit: 366d', /time_limit: expected a time limit of at most 365d \(or UNLIMITED for none\), got "366d"/],
    ['parallelism: 0', /expected an integer between 1 and 100000, got 0/],
  ])('job %s is reported', (job, message) => {
    const text = `services:\n  web:\n    image: w\n  s:\n    image: i\n    x-shoal:\n      kind: job\n      job:\n${job
      .split('\n')
      .map((l) => `        ${l.trim()}`)
      .join('\n')}\n`;
    expect(parseErrors(text).join('\n')).toMatch(message);
  });

  it.each([
    ['30d', 30 * 86_400_000],
    ['365d', 365 * 86_400_000],
    ['UNLIMITED', 0],
    ['infinite', 0],
  ])('job time_limit: %s is %d ms (0: none)', (limit, ms) => {
    const text = `services:\n  s:\n    image: i\n    x-shoal: {kind: job, job: {time_limit: ${limit}}}\n`;
    expect(parseOk(text).services.s!.job!.timeLimitMs).toBe(ms);
  });

  it('reports a cycle of job dependencies', () => {
    const text = `services:
  a: {image: i, x-shoal: {kind: job, job: {dependencies: {afterok: [b]}}}}
  b: {image: i, x-shoal: {kind: job, job: {dependencies: {afterok: [a]}}}}
`;
    expect(parseErrors(text)).toEqual([
      'compose.yml:3 services.b.x-shoal.job.dependencies.afterok[0]: job dependencies form a cycle: a -> b -> a',
    ]);
  });

  it('reports a depends_on cycle', () => {
    const text =
      'services:\n  a: {image: i, depends_on: [b]}\n  b: {image: i, depends_on: [c]}\n  c: {image: i, depends_on: [a]}\n';
    expect(parseErrors(text)).toEqual([
      'compose.yml:4 services.c.depends_on[0]: depends_on form a cycle: a -> b -> c -> a',
    ]);
  });
});

describe('parseArray()', () => {
  it.each([
    ['0-99%10', [{ start: 0, end: 99, step: 1 }], 100, 10],
    [
      '1,3,5-7',
      [
        { start: 1, end: 1, step: 1 },
        { start: 3, end: 3, step: 1 },
        { start: 5, end: 7, step: 1 },
      ],
      5,
      0,
    ],
    ['0-15:4', [{ start: 0, end: 15, step: 4 }], 4, 0],
    ['7', [{ start: 7, end: 7, step: 1 }], 1, 0],
  ])('parseArray(%p)', (text, ranges, count, maxConcurrent) => {
    expect(parseArray(text)).toEqual({ text, ranges, count, maxConcurrent });
  });

  it.each(['', 'a-b', '5-1', '0-9%0', '0-9%x', '0-9%2%3', '0-2000000', '0-15:0', '1,,2'])(
    'parseArray(%p) throws a RangeError',
    (text) => {
      expect(() => parseArray(text)).toThrow(RangeError);
    },
  );
});

describe('parseStack() cron', () => {
  it('reads a cron service with defaults', () => {
    const s = service('x-shoal:\n  kind: cron\n  cron:\n    schedule: "0  3 * * *"');
    expect(s.kind).toBe('cron');
    expect(s.cron).toEqual({
      schedule: '0 3 * * *',
      timeZone: 'UTC',
      concurrencyPolicy: 'forbid',
      missedRuns: 'run-once',
      startingDeadlineMs: 0,
      successfulHistory: 3,
      failedHistory: 1,
      suspended: false,
    });
    expect(s.job?.completions).toBe(1);
  });

  it('reads every cron key', () => {
    const s = service(`x-shoal:
  kind: cron
  cron:
    schedule: "@hourly"
    time_zone: America/New_York
    concurrency_policy: replace
    missed_runs: skip
    starting_deadline: 10m
    successful_history: 0
    failed_history: 5
    suspend: true`);
    expect(s.cron).toEqual({
      schedule: '@hourly',
      timeZone: 'America/New_York',
      concurrencyPolicy: 'replace',
      missedRuns: 'skip',
      startingDeadlineMs: 600_000,
      successfulHistory: 0,
      failedHistory: 5,
      suspended: true,
    });
  });

  it.each([
    ['x-shoal:\n  kind: cron', /a cron service needs x-shoal.cron.schedule/],
    ['x-shoal:\n  kind: cron\n  cron: {time_zone: UTC}', /schedule is required/],
    [
      'x-shoal:\n  kind: cron\n  cron: {schedule: "61 * * * *"}',
      /invalid cron schedule "61 \* \* \* \*": minute: 61 is out of range 0-59/,
    ],
    [
      'x-shoal:\n  kind: cron\n  cron: {schedule: "@daily", time_zone: Mars/Olympus}',
      /unknown time zone "Mars\/Olympus"/,
    ],
    [
      'x-shoal:\n  kind: cron\n  cron: {schedule: "@daily", concurrency_policy: queue}',
      /expected one of allow, forbid, replace/,
    ],
  ])('%s is reported', (body, message) => {
    expect(parseErrors(oneService(body)).join('\n')).toMatch(message);
  });
});

describe('cronError()', () => {
  it.each([
    '* * * * *',
    '*/15 9-17 * * mon-fri',
    '0 0 1,15 * *',
    '0 12 * JAN-MAR SUN',
    '5 4 * * 7',
    '0 0 ? * 1',
    '@daily',
    '@annually',
  ])('accepts %p', (expr) => {
    expect(cronError(expr)).toBeUndefined();
  });

  it.each([
    ['* * * *', 'expected 5 fields (minute hour day-of-month month day-of-week), got 4'],
    ['* 24 * * *', 'hour: 24 is out of range 0-23'],
    ['* * 0 * *', 'day of month: 0 is out of range 1-31'],
    ['* * * foo *', 'month: "foo" is not a number or name'],
    ['*/0 * * * *', 'minute: step must be >= 1 in "*/0"'],
    ['5-1 * * * *', 'minute: range "5-1" runs backwards'],
    ['@every 5m', 'unknown macro "@every 5m": use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly'],
  ])('rejects %p: %s', (expr, message) => {
    expect(cronError(expr)).toBe(message);
  });
});

describe('parseStack() autoscale', () => {
  it('reads autoscale for a replicated service', () => {
    expect(
      service('x-shoal:\n  autoscale: {min: 2, max: 10, target_cpu: 70, scale_down_cooldown: 10m}').autoscale,
    ).toEqual({
      min: 2,
      max: 10,
      targetCpuPercent: 70,
      targetMemoryPercent: 0,
      scaleUpCooldownMs: 0,
      scaleDownCooldownMs: 600_000,
    });
  });

  it('reads a Prometheus metric target', () => {
    expect(
      service('x-shoal:\n  autoscale: {max: 10, metric: {port: 9100, name: jobs_in_flight, value: 2.5}}').autoscale,
    ).toMatchObject({ metric: { port: 9100, path: '/metrics', name: 'jobs_in_flight', value: 2.5 } });
  });

  it('reads a pending-jobs target (a worker service)', () => {
    expect(
      service('x-shoal:\n  autoscale: {max: 10, target_pending_jobs: {namespace: batch, per_task: 5}}').autoscale,
    ).toMatchObject({ targetCpuPercent: 0, pendingJobs: { namespace: 'batch', perTask: 5 } });
  });

  it('reads the optional HPA settings only when given', () => {
    expect(
      service(
        'x-shoal:\n  autoscale: {max: 10, target_cpu: 70, scale_up_window: 30s, sync_period: 1s, tolerance: 0.2, scale_up_pods: 2, scale_up_percent: 50, scale_down_percent: 25}',
      ).autoscale,
    ).toEqual({
      min: 1,
      max: 10,
      targetCpuPercent: 70,
      targetMemoryPercent: 0,
      scaleUpCooldownMs: 30_000,
      scaleDownCooldownMs: 300_000,
      syncPeriodMs: 1000,
      tolerance: 0.2,
      scaleUpPods: 2,
      scaleUpPercent: 50,
      scaleDownPercent: 25,
    });
  });

  it('reads scale to zero for a service with a port the mesh listens on', () => {
    const body =
      'x-shoal:\n  autoscale: {min: 0, max: 3, target_cpu: 50, idle: 30s, cold_start_timeout: 2m, cold_start_queue: 10}';
    expect(service(`ports: ["8080:80"]\n${body}`).autoscale).toMatchObject({
      min: 0,
      idleMs: 30_000,
      coldStartTimeoutMs: 120_000,
      coldStartQueue: 10,
    });
    expect(service(`expose: ["9000"]\n${body}`).autoscale).toMatchObject({ min: 0 });
  });

  it.each([
    ['x-shoal:\n  autoscale: {min: 5, max: 2, target_cpu: 50}', /max \(2\) is below min \(5\)/],
    ['x-shoal:\n  autoscale: {max: 4}', /set target_cpu, target_memory \(percent\), target_pending_jobs or metric/],
    ['x-shoal:\n  autoscale: {target_cpu: 50}', /max is required/],
    [
      'x-shoal:\n  autoscale: {max: 3, target_pending_jobs: {namespace: batch}}',
      /expected \{namespace: NAME, per_task: N\}/,
    ],
    [
      'x-shoal:\n  autoscale: {max: 3, metric: {port: 9100, name: "a-b", value: 1}}',
      /expected a Prometheus metric name/,
    ],
    ['x-shoal:\n  autoscale: {max: 3, metric: {port: 9100, name: q}}', /expected \{port, name, value\}/],
    [
      'x-shoal:\n  autoscale: {min: 0, max: 3, target_cpu: 50}',
      /min: 0 \(scale to zero\) needs a TCP port the service mesh listens on \(ports: or expose:\)/,
    ],
    [
      'expose: ["53/udp"]\nx-shoal:\n  autoscale: {min: 0, max: 3, target_cpu: 50}',
      /needs a TCP port the service mesh/,
    ],
    ['x-shoal:\n  autoscale: {max: 3, target_cpu: 50, idle: 1m}', /idle applies to scale to zero: set min: 0/],
    [
      'ports: ["8080:80"]\nx-shoal:\n  autoscale: {min: 0, max: 3, target_cpu: 50, cold_start_timeout: 20m}',
      /cold_start_timeout: expected 1s to 10m/,
    ],
    ['x-shoal:\n  autoscale: {max: 3, target_memory: 50}', /target_memory is a percent of the memory reservation/],
    [
      'x-shoal:\n  autoscale: {max: 3, target_cpu: 50, scale_down_window: 1m, scale_down_cooldown: 2m}',
      /scale_down_cooldown is another name for scale_down_window/,
    ],
    [
      'deploy:\n  replicas: 12\nx-shoal:\n  autoscale: {max: 10, target_cpu: 50}',
      /replicas \(12\) must lie within x-shoal.autoscale min..max \(1..10\)/,
    ],
    [
      'deploy:\n  mode: global\nx-shoal:\n  autoscale: {max: 3, target_cpu: 50}',
      /autoscale applies to replicated services \(this service is global\)/,
    ],
  ])('%s is reported', (body, message) => {
    expect(parseErrors(oneService(body)).join('\n')).toMatch(message);
  });
});
