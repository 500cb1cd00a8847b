/** buildSubmittedJob(): `shoal job submit` flags to a validated job spec, errors named by flag. */
import { ApiError } from '../../src/api/types.js';
import { buildSubmittedJob, checkUnitFits, parseDependency } from '../../src/agent/job-spec.js';
import type { NodeView } from '../../src/scheduler/index.js';
import { GiB, node } from '../scheduler/fixtures.js';

const base = { owner: 'alice', command: ['sh', '-c', 'echo $SLURM_ARRAY_TASK_ID'] };

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

describe('buildSubmittedJob()', () => {
  it('buildSubmittedJob() defaults to the process runtime, 1 CPU, namespace default, batch priority', () => {
    const job = buildSubmittedJob(base);
    expect(job.spec).toMatchObject({ kind: 'job', runtime: 'process', image: '' });
    expect(job.spec.deploy.resources.reservations.cpuMillis).toBe(1000);
    expect(job).toMatchObject({ name: 'sh', namespace: 'default', priority: 100, dependencies: [] });
    expect(job.spec.scheduling.owner).toBe('alice');
  });

  it('buildSubmittedJob() keeps $VARS in the command for the job shell, not the Compose parser', () => {
    expect(buildSubmittedJob(base).spec.command).toEqual(['sh', '-c', 'echo $SLURM_ARRAY_TASK_ID']);
    expect(buildSubmittedJob({ ...base, env: { A: '$HOME/x' } }).spec.env).toEqual({ A: '$HOME/x' });
  });

  it('buildSubmittedJob() maps every flag onto the spec', () => {
    const job = buildSubmittedJob({
      ...base,
      name: 'train',
      image: 'busybox:1',
      cpus: 2.5,
      memory: '512M',
      gpus: 2,
      time: '90m',
      array: '0-9%2',
      retries: 3,
      priority: 700,
      namespace: 'ml',
      gang: true,
      requeue: false,
      workingDir: '/data',
      dependency: 'afterok:4:5,afterany:9',
    });
    expect(job.spec).toMatchObject({ runtime: 'docker', image: 'busybox:1', workingDir: '/data' });
    expect(job.spec.deploy.resources.reservations).toMatchObject({ cpuMillis: 2500, memoryBytes: 512 * 2 ** 20 });
    expect(job.spec.deploy.resources.reservations.devices[0]).toMatchObject({ capabilities: ['gpu'], count: 2 });
    expect(job.spec.deploy.resources.limits.memoryBytes).toBe(512 * 2 ** 20);
    expect(job.spec.job).toMatchObject({ timeLimitMs: 90 * 60_000, retries: 3, requeue: false });
    expect(job.spec.job!.array).toMatchObject({ count: 10, maxConcurrent: 2 });
    expect(job.spec.scheduling).toMatchObject({ gang: true, priority: 700, namespace: 'ml' });
    expect(job.dependencies).toEqual([
      { type: 'afterok', jobId: '4' },
      { type: 'afterok', jobId: '5' },
      { type: 'afterany', jobId: '9' },
    ]);
  });

  it.each([
    [{ array: '5-1' }, /^job submit: 1 error\(s\), nothing submitted:\n--array: /],
    [{ time: 'forever' }, /--time: /],
    [{ memory: 'lots' }, /--mem: /],
    [{ command: [] }, /no command given/],
    [{ image: 'x', runtime: 'process' as const }, /--image runs a container/],
    [{ runtime: 'docker' as const }, /needs --image/],
    [{ cpus: 0 }, /^job submit: --cpus 0: a unit reserves more than 0 CPUs/],
    [{ cpus: -2 }, /^job submit: --cpus -2: a unit reserves more than 0 CPUs/],
    [{ time: '8640000000s' }, /--time: expected a time limit of at most 365d \(or UNLIMITED for none\)/],
  ])('buildSubmittedJob() refuses %j naming the flag', (change, message) => {
    expect(errorOf(() => buildSubmittedJob({ ...base, ...change }))).toMatch(message);
  });
});

describe('checkUnitFits()', () => {
  const nodes: NodeView[] = ['a', 'b'].map((id, i) =>
    node(id, { resources: { cpus: (i + 1) * 4000, memoryBytes: (i + 1) * 8 * GiB } }),
  );

  it('checkUnitFits() accepts a job that fits on the largest node, and judges nothing without nodes', () => {
    expect(() => checkUnitFits(buildSubmittedJob({ ...base, cpus: 8, memory: '16G' }).spec, nodes)).not.toThrow();
    expect(() => checkUnitFits(buildSubmittedJob({ ...base, cpus: 1000 }).spec, [])).not.toThrow();
  });

  it.each([
    [
      { cpus: 1000 },
      /needs 1000 CPUs, 0 B memory; the largest node, host-b, has 8 CPUs, 16 GiB memory \(not enough cpu\)/,
    ],
    [{ memory: '100T' }, /needs 1 CPUs, 100 TiB memory; the largest node, host-b, has 8 CPUs, 16 GiB memory/],
    [{ gpus: 1 }, /needs 1 CPUs, 0 B memory, 1 GPUs; the largest node, host-b, has 8 CPUs, 16 GiB memory, 0 GPUs/],
  ])('checkUnitFits() refuses %j as Slurm does, naming the largest node', (change, message) => {
    const message_ = errorOf(() => checkUnitFits(buildSubmittedJob({ ...base, ...change }).spec, nodes));
    expect(message_).toMatch(/^job submit: Requested node configuration is not available: one unit /);
    expect(message_).toMatch(message);
    expect(message_).toMatch(/ask for less \(-c, --mem, --gpus\)/);
  });
});

describe('parseDependency()', () => {
  it.each([
    ['', []],
    ['afterok:12', [{ type: 'afterok', jobId: '12' }]],
    [
      'afternotok:3,afterok:3',
      [
        { type: 'afternotok', jobId: '3' },
        { type: 'afterok', jobId: '3' },
      ],
    ],
  ])('parseDependency(%j)', (text, deps) => {
    expect(parseDependency(text)).toEqual(deps);
  });

  it.each(['after:1', 'afterok', 'afterok:x', 'afterok:0'])('parseDependency(%j) refuses with an example', (text) => {
    expect(errorOf(() => parseDependency(text))).toMatch(/^--dependency: .*e\.g\./);
  });
});
