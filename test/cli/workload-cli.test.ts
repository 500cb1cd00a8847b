import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError, type LogLine, type StackDeployRequest, type TaskView } from '../../src/api/index.js';
import { runCli } from '../../src/cli/index.js';
import { startHarness, type Harness } from '../api/harness.js';
import { ALPHA_LABELS, deployWeb, failWebApi1, print, until, webTask } from '../api/web-stack.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

/** Run the CLI in process against the harness, its clock at `now` (default the wall clock). */
async function cli(argv: string[], env: Record<string, string | undefined> = {}, now?: number): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCli([...argv, '--addr', `unix://${h.socketPath}`], {
    env,
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    fileExists: () => false,
    now: () => now ?? Date.now(),
  });
  return { code, out, err };
}

// Real agents (test/agent/support): three nodes, the API of alpha served, the `web` stack deployed.
let h: Harness;
beforeEach(async () => {
  h = await startHarness({ labels: [ALPHA_LABELS] });
  await deployWeb(h);
});
afterEach(async () => {
  await h.close();
});

const api = () => h.agent.agent.api;
/** A node as the task tables show it: hostname and short id. */
const nodeCell = (task: TaskView) => `${task.nodeHostname} \\(${task.nodeId!.slice(0, 16)}\\)`;
/** The newest state change of `tasks`: a CLI clock set from it gives predictable ages. */
const newest = (tasks: readonly TaskView[]) => Math.max(...tasks.map((t) => t.stateSince));

describe('shoal stack', () => {
  it('ls prints name, services, running/desired tasks and ages', async () => {
    const [stack] = await api().listStacks();
    // created and updated by one deploy, milliseconds apart: both an hour old on a clock an hour on
    const { code, out } = await cli(['stack', 'ls'], {}, stack!.updatedAt + 3_600_000);
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME +SERVICES +TASKS +CREATED +UPDATED$/);
    expect(lines[1]).toMatch(/^web +2 +5\/5 +About an hour ago +About an hour ago$/);
    const later = await cli(['stack', 'ls'], {}, stack!.updatedAt + 90_000);
    expect(later.out.trimEnd().split('\n')[1]).toMatch(/^web +2 +5\/5 +About a minute ago +About a minute ago$/);
    expect((await cli(['stack', 'ls', '-q'])).out).toBe('web\n');
  });

  it('ps prints docker stack ps columns with "Running 2 minutes ago"', async () => {
    const tasks = await api().stackTasks('web');
    const { code, out } = await cli(['stack', 'ps', 'web'], {}, newest(tasks) + 2 * 60_000 + 500);
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +NAME +IMAGE +NODE +DESIRED STATE +CURRENT STATE +ERROR$/);
    expect(lines).toHaveLength(6); // 2 api replicas + 3 global agent tasks
    const api1 = tasks.find((t) => t.name === 'web_api.1')!;
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^${api1.id.slice(0, 12)} +web_api\\.1 +nginx:1\\.25 +${nodeCell(api1)} +Running +Running 2 minutes ago$`,
        ),
      ),
    );
    const gamma = tasks.find((t) => t.serviceId === 'web_agent' && t.nodeHostname === 'gamma')!;
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^\\S+ +web_agent\\.\\S+ +example/agent:1 +${nodeCell(gamma)} +Running`)),
    );
  });

  it('ps -o wide, as its help advertises, adds the node id column', async () => {
    const { code, out } = await cli(['stack', 'ps', 'web', '-o', 'wide']);
    expect(code).toBe(0);
    expect(out.split('\n')[0]).toMatch(
      /^ID +NAME +IMAGE +NODE +NODE ID +DESIRED STATE +CURRENT STATE +CONTAINER +PORTS +ERROR$/,
    );
  });

  it('ps --all lists finished tasks under their slot with the error', async () => {
    const failed = await failWebApi1(h, 1);
    const { out } = await cli(['stack', 'ps', 'web', '--all'], {}, failed.stateSince + 10 * 60_000 + 500);
    const lines = out.trimEnd().split('\n');
    const current = lines.findIndex((line) => / web_api\.1 /.test(line));
    // DESIRED STATE is Running, not Shutdown: the agent keeps a replaced task's desired state
    expect(lines[current + 1]).toMatch(
      new RegExp(
        `^${failed.id.slice(0, 12)} + \\\\_ web_api\\.1 +nginx:1\\.25 +${nodeCell(failed)} +Running +Failed 10 minutes ago +` +
          '"exited with code 1; gave up after 1 restart \\(max_attempts 1\\)"$',
      ),
    );
    expect(h.api.calls.map((c) => c.args)).toEqual([['web', true]]);
  });

  it('ps -o json prints the TaskViews; an unknown stack exits 4', async () => {
    const { out } = await cli(['stack', 'ps', 'web', '-o', 'json']);
    expect(JSON.parse(out)).toEqual(await api().stackTasks('web'));
    const missing = await cli(['stack', 'ps', 'nope']);
    expect(missing.code).toBe(4);
    expect(missing.err).toBe('shoal: No stack named nope: `shoal stack ls` lists them\n');
  });

  it('rm removes the stack, waits for its tasks to end, and exits 4 the second time', async () => {
    const live = (await api().stackTasks('web')).length;
    expect(live).toBeGreaterThan(0);
    const removed = await cli(['stack', 'rm', 'web']);
    expect(removed).toEqual({
      code: 0,
      out: `Removed stack web (2 services): ${live} task${live === 1 ? '' : 's'} ended\n`,
      err: 'Removing stack web...\n',
    });
    expect((await cli(['stack', 'rm', 'web'])).code).toBe(4);
    expect(await cli(['stack', 'rm', 'web', '--wait', 'soon'])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/--wait: expected whole seconds/),
    });
  });
});

describe('shoal stack deploy', () => {
  async function project(files: Record<string, string>): Promise<string> {
    const dir = join(h.dir, 'Shop.App');
    await mkdir(join(dir, 'config'), { recursive: true });
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    return dir;
  }
  const deployed = () => h.api.calls.find((c) => c.method === 'deployStack')!.args[0] as StackDeployRequest;

  it('sends the file, .env under the environment, and the env files it names', async () => {
    const compose =
      'services:\n  api:\n    image: nginx:${TAG}\n    env_file:\n      - ./config/app.env\n      - path: ${OPTIONAL}.env\n        required: false\n' +
      '  db:\n    image: postgres:16\n    environment:\n      - PASSWORD\n';
    const dir = await project({
      'compose.yml': compose,
      '.env': 'TAG=1.0\nPASSWORD="s3 cret"\nUNUSED=x\n',
      'config/app.env': 'MODE=prod\n',
    });
    const run = await cli(['stack', 'deploy', '-f', join(dir, 'compose.yml'), '--detach'], {
      TAG: '2.0',
      OPTIONAL: 'extra',
      AWS_SECRET_ACCESS_KEY: 'not for the agent',
    });
    expect(run).toEqual({ code: 0, out: 'Creating service shopapp_api\nCreating service shopapp_db\n', err: '' });
    const request = deployed();
    expect(request.name).toBe('shopapp'); // the directory name, as Compose derives it
    expect(request.file).toBe('compose.yml');
    expect(request.compose).toBe(compose);
    expect(request.env).toEqual({ TAG: '2.0', PASSWORD: 's3 cret', OPTIONAL: 'extra' });
    expect(request.files).toEqual({ './config/app.env': 'MODE=prod\n', 'config/app.env': 'MODE=prod\n' });
    const spec = (await api().inspectService('shopapp_api')).spec as { image: string; env: Record<string, string> };
    expect(spec.image).toBe('nginx:2.0');
    expect(spec.env).toEqual({ MODE: 'prod' });
  });

  it('takes --name (or the argument) and the top-level name:, and prints unchanged services', async () => {
    const dir = await project({ 'compose.yml': 'name: fromfile\nservices:\n  api:\n    image: nginx\n' });
    const file = join(dir, 'compose.yml');
    expect((await cli(['stack', 'deploy', '-f', file, '-d'])).out).toBe('Creating service fromfile_api\n');
    expect((await cli(['stack', 'deploy', '-f', file])).out).toBe('Unchanged service fromfile_api\n');
    expect((await cli(['stack', 'deploy', '-f', file, '--name', 'other', '-d'])).out).toBe(
      'Creating service other_api\n',
    );
    const json = await cli(['stack', 'up', '-f', file, 'third', '-o', 'json']);
    expect(JSON.parse(json.out)).toEqual({
      stack: 'third',
      services: [{ name: 'api', change: 'created' }],
      warnings: [],
    });
  });

  it('prints every error of a bad file as the agent wrote it and exits 1', async () => {
    const dir = await project({
      'compose.yml':
        'services:\n  api:\n    image: nginx\n    deploy:\n      replicas: three\n    env_file: missing.env\n',
    });
    const run = await cli(['stack', 'deploy', '-f', join(dir, 'compose.yml'), '--name', 'shop']);
    expect(run.code).toBe(1);
    expect(run.out).toBe('');
    const lines = run.err.trimEnd().split('\n');
    expect(lines[0]).toBe('shoal: stack shop: 2 error(s), nothing deployed:');
    expect(lines[1]).toMatch(/^compose\.yml:5 services\.api\.deploy\.replicas: /);
    expect(lines[2]).toMatch(/^compose\.yml:6 services\.api\.env_file: cannot read env_file "missing\.env"/);
  });

  it('exits 2 when the Compose file cannot be read', async () => {
    const run = await cli(['stack', 'deploy', '-f', join(h.dir, 'nope.yml')]);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/^shoal: cannot read the Compose file .*nope\.yml: no such file\n/);
    expect(h.api.calls).toEqual([]);
  });
});

describe('shoal service', () => {
  it('ls prints name, mode, replicas, image and ports; --stack filters', async () => {
    const { out } = await cli(['service', 'ls']);
    expect(out).toBe(
      'NAME        MODE         REPLICAS   IMAGE             PORTS\n' +
        'web_agent   global       3/3        example/agent:1\n' +
        'web_api     replicated   2/2        nginx:1.25        8080:80/tcp\n',
    );
    expect((await cli(['service', 'ls', '--stack', 'none', '-q'])).out).toBe('');
    expect(h.api.calls.map((c) => c.args[0])).toEqual([undefined, 'none']);
  });

  it('ps lists the tasks of one service; inspect prints a JSON array', async () => {
    const ps = await cli(['service', 'ps', 'web_api', '-q']);
    const ids = (await api().serviceTasks('web_api')).map((t) => t.id);
    expect(ids).toHaveLength(2);
    expect(ps.out.trimEnd().split('\n')).toEqual(ids);
    const inspect = await cli(['service', 'inspect', 'web_api', 'web_agent']);
    const views = JSON.parse(inspect.out);
    expect(views.map((v: { id: string }) => v.id)).toEqual(['web_api', 'web_agent']);
    expect(views[0].tasks).toHaveLength(2);
    expect((await cli(['service', 'inspect', 'nope'])).code).toBe(4);
    expect(JSON.parse((await cli(['service', 'inspect', 'web_api', '-o', 'json'])).out)).toEqual([views[0]]);
  });

  it('scale sets replicas of each SERVICE=N and checks every argument first', async () => {
    const replicas = async () => (await api().inspectService('web_api')).replicas;
    expect(await cli(['service', 'scale', 'web_api=5'])).toEqual({ code: 0, out: 'web_api scaled to 5\n', err: '' });
    expect(await replicas()).toBe(5);
    const bad = await cli(['service', 'scale', 'web_api=1', 'web_agent']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^shoal: "web_agent": expected SERVICE=REPLICAS/);
    expect(await replicas()).toBe(5);
    const global = await cli(['service', 'scale', 'web_agent=2']);
    expect(global).toEqual({
      code: 1,
      out: '',
      err: 'shoal: Cannot scale web_agent as it is a global service: only replicated services have a replica count\n',
    });
  });
});

describe('shoal service logs', () => {
  it('prints each line as task@host | line, stderr lines to stderr', async () => {
    const task = await webTask(h, 'web_api.1');
    print(h, task, 'hello', { time: 1_700_000_000_000 });
    print(h, task, 'oops', { stream: 'stderr', time: 1_700_000_000_001 });
    const { code, out, err } = await cli(['service', 'logs', 'web_api']);
    expect(code).toBe(0);
    expect(out).toBe(`web_api.1@${task.nodeHostname} | hello\n`);
    expect(err).toBe(`web_api.1@${task.nodeHostname} | oops\n`);
    const stamped = await cli(['service', 'logs', '-t', 'web_api']);
    expect(stamped.out).toBe(`web_api.1@${task.nodeHostname} | 2023-11-14T22:13:20.000Z hello\n`);
  });

  it('-o json prints NDJSON; --tail and --since go to the agent', async () => {
    const task = await webTask(h, 'web_api.1');
    const now = Date.now();
    print(h, task, 'a', { time: now - 20 * 60_000 });
    const b = print(h, task, 'b', { time: now });
    const { out } = await cli(['service', 'logs', '--tail', '5', '--since', '10m', '-o', 'json', 'web_api'], {}, now);
    expect(
      out
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as LogLine),
    ).toEqual([b]);
    const call = h.api.calls.find((c) => c.method === 'serviceLogs')!;
    expect(call.args[0]).toEqual({ service: 'web_api', follow: false, tail: 5, since: now - 10 * 60_000 });
  });

  it('-f prints lines as they come until the stream ends', async () => {
    const [one, two] = [await webTask(h, 'web_api.1'), await webTask(h, 'web_api.2')];
    const running = cli(['service', 'logs', '-f', 'web_api']);
    // Wait until the agent is streaming to this client, then feed it.
    await until(
      'the logs call',
      async () => h.api.calls,
      (calls) => calls.some((c) => c.method === 'serviceLogs'),
    );
    print(h, one, 'one');
    print(h, one, 'two');
    // the stream ends once every followed container has exited, as `docker service logs -f` does
    for (const task of [one, two]) h.cluster.byId(task.nodeId!).driver.exit(task.containerId!, 0);
    const host = one.nodeHostname;
    expect(await running).toEqual({ code: 0, out: `web_api.1@${host} | one\nweb_api.1@${host} | two\n`, err: '' });
  });

  it('exits 5 when the agent does not start answering in time, or cuts the stream', async () => {
    h.api.hang = true;
    const slow = await cli(['service', 'logs', '--timeout', '100ms', 'web_api']);
    expect(slow.code).toBe(5);
    expect(slow.err).toContain('did not answer within 100 ms');
    h.api.hang = false;
    let out = '';
    let err = '';
    const running = runCli(['service', 'logs', '-f', 'web_api', '--addr', h.socketPath], {
      env: {},
      stdout: { write: (text: string) => (out += text) },
      stderr: { write: (text: string) => (err += text) },
      fileExists: () => false,
    });
    // Once a line has come through, the stream is established: then cut it.
    const task = await webTask(h, 'web_api.1');
    for (let i = 0; i < 400 && out === ''; i++) {
      print(h, task, 'last words');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(out).toMatch(/^web_api\.1@\w+ \| last words\n/);
    await h.server.stop(); // the agent goes away mid-stream
    expect(await running).toBe(5);
    expect(err).toBe(`shoal: the stream from unix://${h.socketPath} was cut off\n`);
  });

  it('prints an error the agent streams after some lines, and exits with its code', async () => {
    const task = await webTask(h, 'web_api.1');
    print(h, task, 'before');
    h.api.failStreamNext = { after: 1, error: new ApiError(503, 'unavailable', 'node beta stopped answering: retry') };
    expect(await cli(['service', 'logs', 'web_api'])).toEqual({
      code: 5,
      out: `web_api.1@${task.nodeHostname} | before\n`,
      err: 'shoal: node beta stopped answering: retry\n',
    });
  });

  it('exits 4 for an unknown service and 2 for a bad --tail or --since', async () => {
    expect((await cli(['service', 'logs', 'nope'])).code).toBe(4);
    expect((await cli(['service', 'logs', '--tail', 'x', 'web_api'])).err).toMatch(/^shoal: --tail "x": expected/);
    expect((await cli(['service', 'logs', '--since', 'yesterday', 'web_api'])).code).toBe(2);
  });
});

describe('shoal node availability and labels', () => {
  const node = async (hostname: string) => (await api().listNodes()).find((n) => n.hostname === hostname)!;
  /** The shortest prefix of `id` no other node's id starts with. */
  const prefix = async (id: string) => {
    const others = (await api().listNodes()).map((n) => n.id).filter((other) => other !== id);
    for (let n = 9; ; n++) if (!others.some((other) => other.startsWith(id.slice(0, n)))) return id.slice(0, n);
  };

  it('drain, pause and activate take a hostname or id prefix', async () => {
    expect(await cli(['node', 'drain', 'beta'])).toEqual({ code: 0, out: `${h.idOf('beta')}\n`, err: '' });
    expect((await node('beta')).availability).toBe('drain');
    await cli(['node', 'pause', await prefix(h.idOf('gamma'))]);
    expect((await node('gamma')).availability).toBe('pause');
    const json = await cli(['node', 'activate', 'beta', '-o', 'json']);
    expect(JSON.parse(json.out)[0]).toMatchObject({ id: h.idOf('beta'), availability: 'active' });
    expect((await cli(['node', 'drain', 'nope'])).code).toBe(4);
  });

  it('label add and label rm change the labels', async () => {
    expect((await cli(['node', 'label', 'add', 'alpha', 'disk=ssd', 'rack=r1=a'])).code).toBe(0);
    expect((await node('alpha')).labels).toEqual({ zone: 'a', gpu: 'h100', disk: 'ssd', rack: 'r1=a' });
    const removed = await cli(['node', 'label', 'rm', 'alpha', 'gpu', 'zone', '-o', 'json']);
    expect(JSON.parse(removed.out)[0].labels).toEqual({ disk: 'ssd', rack: 'r1=a' });
  });

  it('refuses malformed labels and unknown subcommands with exit 2', async () => {
    expect((await cli(['node', 'label', 'add', 'alpha', 'disk'])).err).toMatch(/^shoal: "disk": expected KEY=VALUE/);
    expect((await cli(['node', 'label', 'rm', 'alpha', 'zone=a'])).code).toBe(2);
    const unknown = await cli(['node', 'label', 'frob']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/^shoal: unknown command "node label frob"\nUsage: shoal node label <command>/);
    const group = await cli(['node', 'label', '--help']);
    expect(group.out).toMatch(/^ {2}add +Add or change labels/m);
    expect((await cli(['node', '--help'])).out).toMatch(/^ {2}label add +Add or change labels/m);
    expect(h.api.calls).toEqual([]);
  });
});
