import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostFilesDriver } from '../../src/runtime/host-task-files.js';
import { TaskRejectedError, type RunnableAssignment, type TaskFile } from '../../src/runtime/index.js';
import { assignment, BASE_SPEC, task } from './fixtures.js';
import { ManualClock, MemoryDriver } from './memory-driver.js';
import { ProcessDriver } from '../../src/runtime/process/index.js';
import {
  collect,
  exited,
  NODE as PROCESS_NODE,
  processTask,
  removeTempDirs,
  sh,
  tempDir,
  waitFor,
} from './process/helpers.js';

const NODE = 'node-1';
const file = (over: Partial<TaskFile> = {}): TaskFile => ({
  kind: 'secret',
  name: 'db_pw',
  target: '/run/secrets/db_pw',
  uid: process.getuid?.() ?? 0,
  gid: process.getgid?.() ?? 0,
  mode: 0o440,
  data: Buffer.from('s3cret'),
  ...over,
});

function withFiles(files: readonly TaskFile[], id = 't1'): RunnableAssignment {
  return { ...assignment(task({ id, nodeId: NODE })), files };
}

describe('HostFilesDriver', () => {
  let base = '';
  let inner: MemoryDriver;
  beforeEach(async () => {
    base = join(await mkdtemp(join(tmpdir(), 'shoal-files-')), 'docker');
    inner = new MemoryDriver(new ManualClock(), { firstLine: null });
  });
  afterEach(async () => {
    await rm(join(base, '..'), { recursive: true, force: true });
  });

  it('bind mode: writes each file with its mode and mounts it read-only at its target', async () => {
    const driver = new HostFilesDriver(inner, { baseDir: base, mode: 'bind' });
    await driver.create(
      NODE,
      withFiles([
        file(),
        file({ kind: 'config', name: 'conf', target: '/etc/app.conf', mode: 0o444, data: Buffer.from('a=1') }),
      ]),
    );
    const given = inner.created.get('t1')!;
    const mounts = given.service.spec.volumes.slice(BASE_SPEC.volumes.length);
    expect(mounts.map((m) => [m.type, m.target, m.readOnly])).toEqual([
      ['bind', '/run/secrets/db_pw', true],
      ['bind', '/etc/app.conf', true],
    ]);
    expect(await readFile(mounts[0]!.source!, 'utf8')).toBe('s3cret');
    expect((await stat(mounts[0]!.source!)).mode & 0o777).toBe(0o440);
    expect((await stat(join(mounts[0]!.source!, '..'))).mode & 0o777).toBe(0o700);
  });

  it('env mode (host processes): files under SHOAL_FILES_DIR at their target, secrets under SHOAL_SECRETS_DIR', async () => {
    const driver = new HostFilesDriver(inner, { baseDir: base, mode: 'env' });
    await driver.create(NODE, withFiles([file()]));
    const env = inner.created.get('t1')!.service.spec.env;
    expect(await readFile(join(env.SHOAL_SECRETS_DIR!, 'db_pw'), 'utf8')).toBe('s3cret');
    expect(env.SHOAL_SECRETS_DIR).toBe(join(env.SHOAL_FILES_DIR!, 'run', 'secrets'));
  });

  (process.getuid?.() === 0 ? it : it.skip)(
    "env mode: the task's directories become its files' owner, so a process of that user reaches them",
    async () => {
      const driver = new HostFilesDriver(inner, { baseDir: base, mode: 'env' });
      await driver.create(NODE, withFiles([file({ uid: 1234, gid: 1234 })]));
      const secrets = inner.created.get('t1')!.service!.spec.env.SHOAL_SECRETS_DIR!;
      for (const path of [join(secrets, '..', '..', '..'), secrets, join(secrets, 'db_pw')])
        expect(await stat(path)).toMatchObject({ uid: 1234, gid: 1234 });
      expect((await stat(secrets)).mode & 0o777).toBe(0o700);
    },
  );

  it('removes a directory once its container is gone, and keeps those of live containers', async () => {
    const driver = new HostFilesDriver(inner, { baseDir: base, mode: 'bind' });
    const gone = await driver.create(NODE, withFiles([file()], 't1'));
    await driver.create(NODE, withFiles([file()], 't2'));
    expect((await readdir(base)).sort()).toEqual(['t1.1', 't2.1']);
    await driver.remove(gone);
    await driver.list(NODE);
    expect(await readdir(base)).toEqual(['t2.1']);
  });

  it('leaves tasks without files alone, and refuses files where there is no tmpfs', async () => {
    await new HostFilesDriver(inner, { baseDir: null, mode: 'bind' }).create(NODE, withFiles([], 't0'));
    expect(inner.created.get('t0')!.service.spec.volumes).toEqual(BASE_SPEC.volumes);
    const none = new HostFilesDriver(inner, { baseDir: null, mode: 'bind' });
    await expect(none.create(NODE, withFiles([file()]))).rejects.toBeInstanceOf(TaskRejectedError);
  });

  it('removes what it wrote when the create fails', async () => {
    const driver = new HostFilesDriver(inner, { baseDir: base, mode: 'bind' });
    inner.createError = new Error('engine down');
    await expect(driver.create(NODE, withFiles([file()]))).rejects.toThrow('engine down');
    expect(await readdir(base)).toEqual([]);
  });
});

describe('HostFilesDriver over real host processes', () => {
  afterAll(removeTempDirs);

  it('a process reads its secret at $SHOAL_SECRETS_DIR/<name>; the directory goes with it', async () => {
    const base = join(tempDir(), 'process');
    const inner = new ProcessDriver({ stateDir: tempDir(), cgroups: false, adoptPollMs: 20 });
    const driver = new HostFilesDriver(inner, { baseDir: base, mode: 'env' });
    const a = processTask(sh('cat "$SHOAL_SECRETS_DIR/db_pw"'));
    const id = await driver.create(PROCESS_NODE, { ...a, files: [file()] });
    await driver.start(id);
    await waitFor(inner, id, exited);
    expect((await collect(inner.logs(id))).map((l) => l.line)).toEqual(['s3cret']);
    await driver.remove(id);
    await driver.list(PROCESS_NODE);
    expect(await readdir(base)).toEqual([]);
  });
});
