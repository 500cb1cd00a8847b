import { buildSubmitRequest } from '../../src/cli/commands/job-submit.js';
import {
  parseArray,
  parseBegin,
  parseCpus,
  parseDependency,
  parseEnv,
  parseMemory,
  parseTimeLimit,
  MAX_TIME_LIMIT_DAYS,
} from '../../src/cli/commands/job-flags.js';
import { MAX_TIME_LIMIT_MS } from '../../src/stack/index.js';
import { buildQuotaRequest } from '../../src/cli/commands/quota.js';
import { UsageError } from '../../src/cli/errors.js';
import { sacctDuration, slurmDuration, slurmTime } from '../../src/cli/format.js';

const WHERE = { cwd: '/home/ana/proj', user: 'ana', now: Date.UTC(2024, 4, 1, 10, 0, 0) };

describe('parseTimeLimit()', () => {
  it.each([
    ['90', '5400s'], // Slurm: minutes
    ['5', '300s'],
    ['30:15', '1815s'], // MM:SS
    ['1:30:00', '5400s'], // HH:MM:SS
    ['2-12', '216000s'], // D-HH
    ['1-01:30', '91800s'], // D-HH:MM
    ['0-00:00:45', '45s'], // D-HH:MM:SS
    ['90s', '90s'],
    ['1h30m', '5400s'],
    ['1.5h', '5400s'],
    ['2d', '172800s'],
    ['1500ms', '2s'], // rounded up to whole seconds
    [' 10m ', '600s'],
  ])('parseTimeLimit(%j) is %j', (text, expected) => {
    expect(parseTimeLimit(text)).toBe(expected);
  });

  it.each([
    ['30-00', '2592000s'], // 30 days: past Node's 24.8-day timer limit, still fine
    ['365-00:00:00', '31536000s'],
    ['365d', '31536000s'],
  ])('parseTimeLimit(%j) takes limits of days, up to a year: %j', (text, expected) => {
    expect(parseTimeLimit(text)).toBe(expected);
  });

  it.each(['99999-00', '365-00:00:01', '366d', '600000'])(
    'parseTimeLimit(%j) refuses a limit over 365 days, naming --time and UNLIMITED',
    (text) => {
      expect(() => parseTimeLimit(text)).toThrow(UsageError);
      expect(() => parseTimeLimit(text)).toThrow(
        /^--time ".*": the longest time limit is 365 days \(365-00:00:00\); use UNLIMITED/,
      );
    },
  );

  it('parseTimeLimit() has the bound the agent checks (MAX_TIME_LIMIT_MS)', () => {
    expect(MAX_TIME_LIMIT_DAYS * 86_400_000).toBe(MAX_TIME_LIMIT_MS);
  });

  it('parseTimeLimit() reads UNLIMITED as no limit', () => {
    expect(parseTimeLimit('UNLIMITED')).toBeUndefined();
    expect(parseTimeLimit('infinite')).toBeUndefined();
  });

  it.each(['', '0', 'abc', '1:60', '1:2:3:4', '1-', '-5', '10x', '1h30', '00:00:00', '1-24:60'])(
    'parseTimeLimit(%j) is a usage error naming --time',
    (text) => {
      expect(() => parseTimeLimit(text)).toThrow(UsageError);
      expect(() => parseTimeLimit(text)).toThrow(/^--time ".*": expected a time limit such as/);
    },
  );
});

describe('parseArray()', () => {
  it.each(['0-99', '0-99%10', '1,3,5-7', '0-15:4', '7'])('parseArray(%j) accepts Slurm syntax', (text) => {
    expect(parseArray(text)).toBe(text);
  });

  it.each([
    ['', /expected indexes/],
    ['a-b', /expected indexes/],
    ['0-99%0', /%N: N >= 1/],
    ['0-99%10%2', /expected indexes/],
    ['9-3', /the range 9-3 runs backwards/],
    ['0-15:0', /a :step >= 1/],
    ['1,,2', /expected indexes/],
  ])('parseArray(%j) is a usage error', (text, message) => {
    expect(() => parseArray(text)).toThrow(message);
  });
});

describe('parseDependency()', () => {
  it.each(['afterok:12', 'afterok:12:13,afterany:9', 'afternotok:4'])('parseDependency(%j) accepts it', (text) => {
    expect(parseDependency(text)).toBe(text);
  });

  it.each([
    ['after:12', /unknown type "after"; use afterok, afterany or afternotok/],
    ['afterok', /expected job ids after "afterok:"/],
    ['afterok:x', /expected job ids after "afterok:", got "x"/],
    ['afterok:12?afterany:3', /got "12\?afterany"/],
    ['afterok:12,', /unknown type ""/],
  ])('parseDependency(%j) is a usage error', (text, message) => {
    expect(() => parseDependency(text)).toThrow(message);
  });
});

describe('other submit values', () => {
  it('parseMemory() takes sizes and reads a bare number as MiB', () => {
    expect(parseMemory('4096')).toBe('4096M');
    expect(parseMemory('8G')).toBe('8G');
    expect(parseMemory('1.5GiB')).toBe('1.5GiB');
    expect(() => parseMemory('lots')).toThrow(/^--mem "lots": expected a size/);
    expect(() => parseMemory('0')).toThrow(UsageError);
  });

  it('parseCpus() takes fractions and refuses the rest', () => {
    expect(parseCpus('0.5')).toBe(0.5);
    expect(parseCpus('4')).toBe(4);
    expect(() => parseCpus('-1')).toThrow(/^--cpus "-1"/);
    expect(() => parseCpus('two')).toThrow(UsageError);
    expect(parseCpus('0')).toBe(0); // a quota of 0 CPUs is a quota
    expect(() => parseCpus('0', '-c', { positive: true })).toThrow(/^-c "0": expected more than 0 CPUs/);
  });

  it('parseEnv() splits at the first = and refuses a missing =', () => {
    expect(parseEnv(['A=1', 'B=x=y', 'A=2', 'EMPTY='])).toEqual({ A: '2', B: 'x=y', EMPTY: '' });
    expect(() => parseEnv(['NOVALUE'])).toThrow(/^--env "NOVALUE": expected KEY=VALUE/);
    expect(() => parseEnv(['1X=2'])).toThrow(UsageError);
  });

  it('parseBegin() reads now+N, ISO times and HH:MM', () => {
    const now = WHERE.now;
    expect(parseBegin('now', now)).toBe(now);
    expect(parseBegin('now+10m', now)).toBe(now + 600_000);
    expect(parseBegin('now+60', now)).toBe(now + 60_000); // Slurm: seconds
    expect(parseBegin('2024-05-02T08:00:00Z', now)).toBe(Date.UTC(2024, 4, 2, 8));
    const at = parseBegin('09:30', now); // the next 09:30 local: within a day, in the future
    expect(at).toBeGreaterThan(now);
    expect(at - now).toBeLessThanOrEqual(86_400_000);
    expect(new Date(at).getMinutes()).toBe(30);
    expect(() => parseBegin('tomorrow', now)).toThrow(/^--begin "tomorrow": expected now, now\+10m/);
    expect(() => parseBegin('25:00', now)).toThrow(UsageError);
  });
});

describe('buildSubmitRequest()', () => {
  it.each<[string, Record<string, string | boolean | string[]>, Record<string, unknown>]>([
    [
      'defaults: the process runtime in the current directory',
      {},
      { runtime: 'process', workingDir: '/home/ana/proj' },
    ],
    [
      '--image: the docker runtime, no working dir',
      { image: 'python:3.12' },
      { runtime: 'docker', image: 'python:3.12' },
    ],
    ['--runtime docker with an image', { image: 'x', runtime: 'docker' }, { runtime: 'docker', image: 'x' }],
    ['--chdir', { chdir: '/data' }, { runtime: 'process', workingDir: '/data' }],
    [
      'resources',
      { cpus: '0.5', mem: '2048', gpus: '2', time: '2-00:00:00' },
      { runtime: 'process', workingDir: '/home/ana/proj', cpus: 0.5, memory: '2048M', gpus: 2, time: '172800s' },
    ],
    [
      'array, dependency, priority, namespace',
      { array: '0-99%10', dependency: 'afterok:12:13,afterany:9', priority: '500', account: 'ml-team' },
      {
        runtime: 'process',
        workingDir: '/home/ana/proj',
        array: '0-99%10',
        dependency: 'afterok:12:13,afterany:9',
        priority: 500,
        namespace: 'ml-team',
      },
    ],
    [
      'env, begin, retries, gang, no-requeue, name',
      { env: ['A=1', 'B=2'], begin: 'now+1h', retries: '3', gang: true, 'no-requeue': true, 'job-name': 'train' },
      {
        runtime: 'process',
        workingDir: '/home/ana/proj',
        env: { A: '1', B: '2' },
        beginAt: WHERE.now + 3_600_000,
        retries: 3,
        gang: true,
        requeue: false,
        name: 'train',
      },
    ],
  ])('buildSubmitRequest() %s', (_, values, expected) => {
    expect(buildSubmitRequest(values, ['python', 'train.py', '--lr', '3'], WHERE)).toEqual({
      owner: 'ana',
      command: ['python', 'train.py', '--lr', '3'],
      ...expected,
    });
  });

  it.each<[string, Record<string, string | boolean>, string[], RegExp]>([
    ['no command', {}, [], /^no command to run: put it after `--`/],
    ['--image with --runtime process', { image: 'x', runtime: 'process' }, ['a'], /leave out --runtime process/],
    ['--runtime docker without an image', { runtime: 'docker' }, ['a'], /--runtime docker needs --image/],
    ['an unknown runtime', { runtime: 'vm' }, ['a'], /^--runtime "vm": expected process or docker/],
    ['--name and --job-name differ', { name: 'a', 'job-name': 'b' }, ['a'], /same flag; give one/],
    ['a bad namespace', { namespace: 'ML Team' }, ['a'], /^--namespace "ML Team": expected a namespace/],
    ['a priority over 1000', { priority: '1001' }, ['a'], /^--priority "1001": expected a whole number from 0 to 1000/],
    ['a bad --time', { time: '1:99' }, ['a'], /^--time "1:99"/],
    ['a --time over 365 days', { time: '99999-00' }, ['a'], /^--time "99999-00": the longest time limit is 365 days/],
    ['-c 0', { cpus: '0' }, ['a'], /^--cpus "0": expected more than 0 CPUs/],
    ['-c -1', { cpus: '-1' }, ['a'], /^--cpus "-1": expected a number of CPUs/],
    ['a bad --array', { array: '1-' }, ['a'], /^--array "1-"/],
    ['a bad --dependency', { dependency: 'afterok:' }, ['a'], /^--dependency "afterok:"/],
  ])('buildSubmitRequest() refuses %s', (_, values, command, message) => {
    expect(() => buildSubmitRequest(values, command, WHERE)).toThrow(message);
  });
});

describe('buildQuotaRequest()', () => {
  it('buildQuotaRequest() maps the flags and needs at least one', () => {
    expect(buildQuotaRequest({ cpus: '64', mem: '256G', gpus: '4', jobs: '10' })).toEqual({
      cpus: 64,
      memory: '256G',
      gpus: 4,
      runningJobs: 10,
    });
    expect(() => buildQuotaRequest({})).toThrow(/nothing to set/);
  });
});

describe('Slurm time formats', () => {
  it.each([
    [0, '0:00'],
    [59_999, '0:59'],
    [61_000, '1:01'],
    [3_723_000, '1:02:03'],
    [86_400_000 + 3_600_000, '1-01:00:00'],
    [-5000, '0:00'],
  ])('slurmDuration(%d) is %j', (ms, text) => {
    expect(slurmDuration(ms)).toBe(text);
  });

  it.each([
    [0, '00:00:00'],
    [3000, '00:00:03'],
    [3_723_000, '01:02:03'],
    [93_784_000, '1-02:03:04'],
    [-5000, '00:00:00'],
  ])('sacctDuration(%d) is %j', (ms, text) => {
    expect(sacctDuration(ms)).toBe(text);
  });

  it('slurmTime() prints local YYYY-MM-DDTHH:MM:SS, Unknown for null', () => {
    const d = new Date(2024, 4, 1, 9, 5, 7); // local time
    expect(slurmTime(d.getTime())).toBe('2024-05-01T09:05:07');
    expect(slurmTime(null)).toBe('Unknown');
  });
});
