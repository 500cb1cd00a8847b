/** The pure parts of the process runtime: the exit file, shell quoting, the spawn plan, log lines. */
import { spawnSync } from 'node:child_process';
import { TaskRejectedError } from '../../../src/runtime/index.js';
import {
  formatExit,
  parseExit,
  parseOutputLine,
  shq,
  spawnPlan,
  type HostIdentity,
} from '../../../src/runtime/process/index.js';
import { NODE, processTask, sh } from './helpers.js';

const host = (uid = 1000): HostIdentity => ({
  uid,
  gid: uid,
  username: uid === 0 ? 'root' : 'agent',
  home: '/home/agent',
  path: '/usr/bin:/bin',
  passwd: () => 'root:x:0:0:root:/root:/bin/sh\nalice:x:1001:1001::/home/alice:/bin/sh\n',
  group: () => 'root:x:0:\ngpu:x:44:alice\n',
});

describe('process runtime files', () => {
  it.each([
    ['code=3\ncpu_ms=12\nend\n', { code: 3, cpuMs: 12, error: '' }],
    ['code=0\ntimes\n0m0.010000s 0m0.000000s\n1m1.500000s 0m0.250000s\nend\n', { code: 0, cpuMs: 61750, error: '' }],
    [
      'code=126\nerror=cannot enter the working directory /x\nend\n',
      { code: 126, cpuMs: null, error: 'cannot enter the working directory /x' },
    ],
    ['code=3\ncpu_ms=12\n', null],
    ['', null],
  ])('parseExit(%j)', (text, expected) => {
    expect(parseExit(text)).toEqual(expected);
  });

  it('formatExit() writes what parseExit() reads', () => {
    const record = { code: 137, cpuMs: null, error: 'killed by SIGKILL' };
    expect(parseExit(formatExit(record))).toEqual(record);
  });

  it('shq() quotes any string for sh', () => {
    for (const s of [`it's`, '$HOME `x` "y"', 'a\nb', '']) {
      expect(spawnSync('/bin/sh', ['-c', `printf %s ${shq(s)}`], { encoding: 'utf8' }).stdout).toBe(s);
    }
  });

  it.each([
    ['O 1700000000000 hello world', { stream: 'stdout', time: 1700000000000, line: 'hello world' }],
    ['E 5 ', { stream: 'stderr', time: 5, line: '' }],
    ['E - no time', { stream: 'stderr', time: 42, line: 'no time' }],
    ['garbage', null],
  ])('parseOutputLine(%j)', (text, expected) => {
    expect(parseOutputLine(text, 42)).toEqual(expected);
  });
});

describe('spawnPlan()', () => {
  it('spawnPlan() runs entrypoint then command with the task variables over the spec env', () => {
    const a = processTask({
      ...sh('x'),
      entrypoint: ['/bin/run'],
      command: ['--fast'],
      env: { PATH: '/opt/bin', A: '1' },
    });
    const plan = spawnPlan(NODE, a, host());
    expect(plan.argv).toEqual(['/bin/run', '--fast']);
    expect(plan.env).toEqual({
      PATH: '/opt/bin',
      HOME: '/home/agent',
      A: '1',
      SHOAL_TASK_ID: a.task.id,
      SHOAL_TASK_SLOT: '1',
      SHOAL_NODE_ID: NODE,
    });
    expect(plan.user).toBeNull();
  });

  it('spawnPlan() runs as the agent when `user` names the agent itself', () => {
    expect(spawnPlan(NODE, processTask(sh('x', { user: 'agent' })), host()).user).toBeNull();
    expect(spawnPlan(NODE, processTask(sh('x', { user: '1000:1000' })), host()).user).toBeNull();
  });

  it('spawnPlan() rejects another user unless the agent is root, then looks the user and group up', () => {
    expect(() => spawnPlan(NODE, processTask(sh('x', { user: 'alice' })), host())).toThrow(TaskRejectedError);
    expect(() => spawnPlan(NODE, processTask(sh('x', { user: 'alice' })), host())).toThrow(/only root may start/);
    const plan = spawnPlan(NODE, processTask(sh('x', { user: 'alice:gpu' })), host(0));
    expect(plan.user).toEqual({ uid: 1001, gid: 44 });
    expect(plan.env).toMatchObject({ HOME: '/home/alice', USER: 'alice' });
    expect(spawnPlan(NODE, processTask(sh('x', { user: '2000' })), host(0)).user).toEqual({ uid: 2000, gid: 2000 });
    expect(() => spawnPlan(NODE, processTask(sh('x', { user: 'bob' })), host(0))).toThrow(/no such user/);
    expect(() => spawnPlan(NODE, processTask(sh('x', { user: 'alice:nope' })), host(0))).toThrow(/no such group/);
  });
});
