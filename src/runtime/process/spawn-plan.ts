/**
 * How a task's ServiceSpec becomes a process: argv, environment, working directory, user, limits
 * and the labels the runtime reads back, the same labels the Docker driver puts on containers.
 * The checks that need the host (is the executable there, who is that user) take their facts as
 * arguments, so they stay testable.
 *
 * @module
 */
import { taskEnvironment, taskLabels } from '../task-env.js';
import fs from 'node:fs';
import path from 'node:path';
import { containerName } from '../create-options.js';
import { TaskRejectedError } from '../errors.js';
import type { RunnableAssignment } from '../types.js';
import type { CgroupLimits } from './cgroups.js';

/** Who the agent runs as, and where to look users up. */
export interface HostIdentity {
  readonly uid: number;
  readonly gid: number;
  readonly username: string;
  readonly home: string;
  readonly path: string;
  /** Contents of `/etc/passwd` and `/etc/group` (read lazily by the caller). */
  readonly passwd: () => string;
  readonly group: () => string;
}

/** A task's process, before it runs. */
export interface SpawnPlan {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly argv: string[];
  readonly env: Record<string, string>;
  /** `null`: the task's own directory. */
  readonly cwd: string | null;
  /** `null`: the agent's own user. */
  readonly user: { readonly uid: number; readonly gid: number } | null;
  readonly stopSignal: string | null;
  readonly stopGraceMs: number;
  readonly limits: CgroupLimits;
}

/**
 * The process of a task. Throws {@link TaskRejectedError} when this node cannot run it: no
 * command, an unknown user, or another user while the agent is not root.
 */
export function spawnPlan(nodeId: string, a: RunnableAssignment, host: HostIdentity): SpawnPlan {
  const { spec } = a.service;
  const argv = [...(spec.entrypoint ?? []), ...(spec.command ?? [])];
  if (argv.length === 0) {
    throw new TaskRejectedError(
      `Cannot run task ${a.task.id} of ${a.service.id} in the process runtime: it needs a command ` +
        '(there is no image to take one from); set `command:` in the service',
    );
  }
  const user = resolveUser(a, host);
  const env: Record<string, string> = {
    PATH: host.path,
    HOME: user?.home ?? host.home,
    ...(user ? { USER: user.name, LOGNAME: user.name } : {}),
    ...spec.env,
    ...taskEnvironment(nodeId, a.task),
  };
  const labels = taskLabels(nodeId, a);
  const { limits } = spec.deploy.resources;
  return {
    name: containerName(nodeId, a),
    labels,
    argv,
    env,
    cwd: spec.workingDir,
    user: user ? { uid: user.uid, gid: user.gid } : null,
    stopSignal: spec.stopSignal,
    stopGraceMs: spec.stopGracePeriodMs,
    limits: { cpuMillis: limits.cpuMillis, memoryBytes: limits.memoryBytes, pids: limits.pids },
  };
}

interface ResolvedUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

/** `user: name|uid[:group|gid]`: null when it is the agent's own user. */
function resolveUser(a: RunnableAssignment, host: HostIdentity): ResolvedUser | null {
  const spec = a.service.spec.user;
  if (spec === null || spec === '') return null;
  const [who = '', group] = spec.split(':');
  const own = who === host.username || who === String(host.uid);
  const ownGroup = group === undefined || group === String(host.gid);
  if (own && ownGroup) return null;
  if (host.uid !== 0) {
    throw new TaskRejectedError(
      `Cannot run task ${a.task.id} as user "${spec}": the agent runs as ${host.username} (uid ${host.uid}) and only ` +
        'root may start processes as another user; drop `user:` or run the agent as root',
    );
  }
  const entry = passwdEntry(host.passwd(), who);
  if (!entry) {
    throw new TaskRejectedError(
      `Cannot run task ${a.task.id} as user "${who}": there is no such user in /etc/passwd on this node; create it or change \`user:\``,
    );
  }
  let gid = entry.gid;
  if (group !== undefined && group !== '') {
    const g = /^\d+$/.test(group) ? Number(group) : groupId(host.group(), group);
    if (g === null) {
      throw new TaskRejectedError(
        `Cannot run task ${a.task.id} as group "${group}": there is no such group in /etc/group on this node`,
      );
    }
    gid = g;
  }
  return { ...entry, gid };
}

function passwdEntry(passwd: string, who: string): ResolvedUser | null {
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f.length < 7) continue;
    if (f[0] === who || f[2] === who) return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! };
  }
  // A bare uid with no entry still works, as in Docker.
  return /^\d+$/.test(who) ? { name: who, uid: Number(who), gid: Number(who), home: '/' } : null;
}

function groupId(groups: string, name: string): number | null {
  for (const line of groups.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f[2] !== undefined) return Number(f[2]);
  }
  return null;
}

/**
 * Checks that the working directory and the executable exist, so that a typo becomes a clear
 * rejection instead of an exit code 127. `cwd` is the directory the command will run in.
 */
export function checkRunnable(taskId: string, argv: readonly string[], env: Record<string, string>, cwd: string): void {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(cwd);
  } catch {
    stat = undefined;
  }
  if (!stat?.isDirectory()) {
    throw new TaskRejectedError(
      `Cannot run task ${taskId}: its working directory ${cwd} does not exist on this node; create it or change \`working_dir:\``,
    );
  }
  const exe = argv[0]!;
  if (exe.includes('/')) {
    const full = path.resolve(cwd, exe);
    if (!isExecutable(full)) {
      throw new TaskRejectedError(
        `Cannot run task ${taskId}: ${full} does not exist or is not executable on this node; install it or fix the command`,
      );
    }
    return;
  }
  const dirs = (env.PATH ?? '').split(':').filter((d) => d !== '');
  if (!dirs.some((d) => isExecutable(path.resolve(cwd, d, exe)))) {
    throw new TaskRejectedError(
      `Cannot run task ${taskId}: executable "${exe}" is not in its PATH (${env.PATH ?? ''}) on this node; ` +
        'install it, give its full path, or set PATH in the service environment',
    );
  }
}

function isExecutable(file: string): boolean {
  try {
    // No exception for the usual miss (a PATH directory without it): building one costs more
    // than the system call, and this runs for each directory of PATH for each task.
    if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
