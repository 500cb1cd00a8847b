/**
 * Linux control groups for the process runtime: one cgroup per task, under the agent's own cgroup
 * (so a task can never escape the limits the host put on the agent), with the task's CPU and
 * memory limits, read back for peak memory, CPU time and OOM kills. Both cgroup v2 (a unified
 * `/sys/fs/cgroup`) and v1 (one hierarchy per controller, including hybrid hosts) are handled.
 * Everything here is synchronous: these are tiny pseudo-file operations, done once per task.
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';

/** What the host lets the process runtime enforce. */
export interface LimitsSupport {
  readonly cpu: boolean;
  readonly memory: boolean;
  /** Why a limit cannot be enforced (absent when both can). */
  readonly reason?: string;
}

/** The limits of one task; 0 = none. */
export interface CgroupLimits {
  readonly cpuMillis: number;
  readonly memoryBytes: number;
  /** Most processes at once; enforced where the pids controller is there too (best effort, not in {@link LimitsSupport}). */
  readonly pids?: number;
}

/** CPU time and peak memory of a task's processes. */
export interface CgroupUsage {
  readonly cpuMs: number;
  readonly peakMemoryBytes: number;
}

/** Where to look for the cgroup file systems (tests point these at fixtures). */
export interface CgroupProbeOptions {
  /** Default `/proc/self/mountinfo`. */
  readonly mountinfo?: string;
  /** Default `/proc/self/cgroup`. */
  readonly selfCgroup?: string;
}

const CPU_PERIOD_US = 100_000;

/**
 * One cgroup per task. {@link CgroupManager.detect} finds out what the host allows;
 * {@link CgroupManager.disabled} is the manager of a host (or a choice) without cgroups.
 *
 * @example
 * ```ts
 * const cg = CgroupManager.detect();
 * const procs = cg.create('proc-1a2b', { cpuMillis: 500, memoryBytes: 256 << 20 });
 * // the task's shell writes its pid into each of `procs` before it runs the command
 * ```
 */
export class CgroupManager {
  /**
   * @param version 1, 2, or null when no cgroup is used.
   * @param bases Per controller (`cpu`, `cpuacct`, `memory`; `unified` for v2): the writable
   *   directory under which task cgroups are created.
   */
  private constructor(
    readonly version: 1 | 2 | null,
    readonly bases: Readonly<Record<string, string>>,
    readonly support: LimitsSupport,
  ) {}

  /** A manager that creates no cgroup; `reason` says why (for the agent to report). */
  static disabled(reason: string): CgroupManager {
    return new CgroupManager(null, {}, { cpu: false, memory: false, reason });
  }

  /** Probes the host: which cgroup version, which controllers, and whether we may write there. */
  static detect(options: CgroupProbeOptions = {}): CgroupManager {
    let mountinfo: string;
    let self: string;
    try {
      mountinfo = fs.readFileSync(options.mountinfo ?? '/proc/self/mountinfo', 'utf8');
      self = fs.readFileSync(options.selfCgroup ?? '/proc/self/cgroup', 'utf8');
    } catch (error) {
      return CgroupManager.disabled(`cannot read /proc (${(error as Error).message}): not Linux?`);
    }
    const mounts = parseMountinfo(mountinfo);
    const own = parseSelfCgroup(self);
    const v1 = (controller: string) => mounts.find((m) => m.type === 'cgroup' && m.options.includes(controller));
    const cpuMount = v1('cpu');
    const memMount = v1('memory');
    if (cpuMount || memMount) return detectV1(mounts, own, { cpu: cpuMount, memory: memMount });
    const unified = mounts.find((m) => m.type === 'cgroup2' && m.mountPoint === '/sys/fs/cgroup');
    if (unified) return detectV2(unified, own.get('') ?? '/');
    return CgroupManager.disabled('no cgroup file system with the cpu or memory controller is mounted');
  }

  /** @internal */
  static of(version: 1 | 2, bases: Record<string, string>, support: LimitsSupport): CgroupManager {
    return new CgroupManager(version, bases, support);
  }

  /** The directories of task `id`'s cgroup, one per hierarchy. */
  dirs(id: string): string[] {
    return Object.values(this.bases).map((b) => path.join(b, id));
  }

  /** {@link create}, or, when the host refuses, no cgroup (what was made is removed) and why. */
  tryCreate(
    id: string,
    limits: CgroupLimits,
    owner?: { uid: number; gid: number },
  ): { dirs: string[]; error: string | null } {
    try {
      return { dirs: this.create(id, limits, owner), error: null };
    } catch (error) {
      CgroupManager.remove(this.dirs(id));
      return { dirs: [], error: error instanceof Error ? error.message : String(error) };
    }
  }

  /**
   * Creates task `id`'s cgroup with its limits and returns its directories, whose `cgroup.procs`
   * the task's first process writes its pid into. `owner` hands those files to the task's user.
   * Throws when the host refuses (the caller then runs the task without a cgroup).
   */
  create(id: string, limits: CgroupLimits, owner?: { uid: number; gid: number }): string[] {
    if (this.version === null) return [];
    const dirs: string[] = [];
    for (const [controller, base] of Object.entries(this.bases)) {
      const dir = path.join(base, id);
      fs.mkdirSync(dir, { recursive: true });
      if (this.version === 2) {
        if (limits.cpuMillis > 0) write(dir, 'cpu.max', `${limits.cpuMillis * 100} ${CPU_PERIOD_US}`);
        if (limits.memoryBytes > 0) {
          write(dir, 'memory.max', String(limits.memoryBytes));
          tryWrite(dir, 'memory.swap.max', '0');
        }
        if ((limits.pids ?? 0) > 0) tryWrite(dir, 'pids.max', String(limits.pids));
      } else if (controller === 'cpu' && limits.cpuMillis > 0) {
        write(dir, 'cpu.cfs_period_us', String(CPU_PERIOD_US));
        write(dir, 'cpu.cfs_quota_us', String(limits.cpuMillis * 100));
      } else if (controller === 'memory' && limits.memoryBytes > 0) {
        write(dir, 'memory.limit_in_bytes', String(limits.memoryBytes));
        // Swap would let the task past its limit; absent without swap accounting.
        tryWrite(dir, 'memory.memsw.limit_in_bytes', String(limits.memoryBytes));
      } else if (controller === 'pids' && (limits.pids ?? 0) > 0) {
        write(dir, 'pids.max', String(limits.pids));
      }
      if (owner) fs.chownSync(path.join(dir, 'cgroup.procs'), owner.uid, owner.gid);
      dirs.push(dir);
    }
    return dirs;
  }

  /**
   * CPU time and peak memory from a task's cgroup directories (as recorded at create: the agent's
   * own cgroup may differ after a restart), `null` when they say nothing.
   */
  static usage(dirs: readonly string[]): CgroupUsage | null {
    let cpuMs: number | null = null;
    let peak: number | null = null;
    for (const dir of dirs) {
      const ns = read(dir, 'cpuacct.usage'); // v1
      if (ns !== null) cpuMs = Math.round(Number(ns) / 1e6);
      const usec = /usage_usec (\d+)/.exec(read(dir, 'cpu.stat') ?? '')?.[1]; // v2
      if (usec !== undefined) cpuMs = Math.round(Number(usec) / 1000);
      const max = read(dir, 'memory.max_usage_in_bytes') ?? read(dir, 'memory.peak');
      if (max !== null) peak = Number(max);
    }
    if (cpuMs === null && peak === null) return null;
    return { cpuMs: cpuMs ?? 0, peakMemoryBytes: peak ?? 0 };
  }

  /** Whether the kernel's OOM killer killed a process in these cgroup directories. */
  static oomKilled(dirs: readonly string[]): boolean {
    return dirs.some((dir) => {
      const events = read(dir, 'memory.oom_control') ?? read(dir, 'memory.events') ?? '';
      return Number(/oom_kill (\d+)/.exec(events)?.[1] ?? 0) > 0;
    });
  }

  /** The pids in these cgroup directories (including those that left the task's process group). */
  static pids(dirs: readonly string[]): number[] {
    const out = new Set<number>();
    for (const dir of dirs) {
      for (const line of (read(dir, 'cgroup.procs') ?? '').split('\n')) if (/^\d+$/.test(line)) out.add(Number(line));
    }
    return [...out];
  }

  /** Removes cgroup directories; their processes must be gone. Missing is fine; busy is left (returns false). */
  static remove(dirs: readonly string[]): boolean {
    let ok = true;
    for (const dir of dirs) {
      try {
        fs.rmdirSync(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') ok = false;
      }
    }
    return ok;
  }
}

interface Mount {
  readonly root: string;
  readonly mountPoint: string;
  readonly type: string;
  readonly options: readonly string[];
}

/** `/proc/self/mountinfo`: root, mount point, fs type and super options of each mount. */
export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const f = left.split(' ');
    const r = right.split(' ');
    out.push({
      root: unescape(f[3] ?? '/'),
      mountPoint: unescape(f[4] ?? ''),
      type: r[0] ?? '',
      options: (r[2] ?? '').split(','),
    });
  }
  return out;
}

/** `/proc/self/cgroup`: the agent's path per controller (`''` for the v2 hierarchy). */
export function parseSelfCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    for (const c of m[1]!.split(',')) out.set(c, m[2]!);
  }
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The agent's own directory in a hierarchy: its path, relative to the mount's root. */
function ownDir(m: Mount, own: string): string {
  const rel = m.root !== '/' && own.startsWith(m.root) ? own.slice(m.root.length) : own;
  const dir = path.join(m.mountPoint, rel);
  return fs.existsSync(dir) ? dir : m.mountPoint;
}

function detectV1(
  mounts: readonly Mount[],
  own: Map<string, string>,
  found: { cpu: Mount | undefined; memory: Mount | undefined },
): CgroupManager {
  const bases: Record<string, string> = {};
  const reasons: string[] = [];
  const cpuacct = mounts.find((m) => m.type === 'cgroup' && m.options.includes('cpuacct'));
  const wanted: [string, Mount | undefined][] = [
    ['cpu', found.cpu],
    ['cpuacct', cpuacct],
    ['memory', found.memory],
  ];
  const pids = mounts.find((m) => m.type === 'cgroup' && m.options.includes('pids'));
  if (pids) wanted.push(['pids', pids]);
  for (const [controller, m] of wanted) {
    if (!m) {
      reasons.push(`the cgroup v1 ${controller} controller is not mounted`);
      continue;
    }
    const base = path.join(ownDir(m, own.get(controller) ?? '/'), 'shoal');
    try {
      fs.mkdirSync(base, { recursive: true });
      fs.accessSync(base, fs.constants.W_OK);
      bases[controller] = base;
    } catch (error) {
      if (controller === 'pids') continue; // best effort
      reasons.push(
        `cannot create cgroups under ${base} (${(error as NodeJS.ErrnoException).code ?? 'error'}): run the agent as root`,
      );
    }
  }
  const support = { cpu: 'cpu' in bases, memory: 'memory' in bases };
  if (!support.cpu && !support.memory) return CgroupManager.disabled(`cgroup v1: ${reasons.join('; ')}`);
  return CgroupManager.of(
    1,
    bases,
    reasons.length > 0 ? { ...support, reason: `cgroup v1: ${reasons.join('; ')}` } : support,
  );
}

function detectV2(m: Mount, own: string): CgroupManager {
  const parent = ownDir(m, own);
  const base = path.join(parent, 'shoal');
  try {
    const available = (read(parent, 'cgroup.controllers') ?? '').split(/\s+/);
    fs.mkdirSync(base, { recursive: true });
    // Controllers must be enabled in every ancestor; the agent's own cgroup refuses (EBUSY) when
    // it holds processes and is not the root: the agent then needs a delegated cgroup of its own.
    const enable = ['cpu', 'memory', 'pids'].filter((c) => available.includes(c));
    for (const dir of [parent, base]) {
      const enabled = (read(dir, 'cgroup.subtree_control') ?? '').split(/\s+/);
      const missing = enable.filter((c) => !enabled.includes(c));
      if (missing.length > 0) write(dir, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '));
    }
    const support = { cpu: enable.includes('cpu'), memory: enable.includes('memory') };
    if (!support.cpu && !support.memory) {
      return CgroupManager.disabled(`cgroup v2: neither cpu nor memory is delegated to ${parent}`);
    }
    const reason =
      support.cpu && support.memory ? undefined : `cgroup v2: only ${enable.join(', ')} is delegated to ${parent}`;
    return CgroupManager.of(2, { unified: base }, reason ? { ...support, reason } : support);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return CgroupManager.disabled(
      `cgroup v2: cannot create task cgroups under ${base} (${code}): run the agent as root in a cgroup of its own ` +
        '(systemd: Delegate=yes)',
    );
  }
}

function read(dir: string, file: string): string | null {
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8').trim();
  } catch {
    return null;
  }
}

function write(dir: string, file: string, value: string): void {
  fs.writeFileSync(path.join(dir, file), value);
}

function tryWrite(dir: string, file: string, value: string): void {
  try {
    write(dir, file, value);
  } catch {
    // optional knob (no swap accounting on this host)
  }
}
