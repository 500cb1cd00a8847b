/**
 * A Docker Engine of its own inside a network namespace: what one "machine" of the test bed runs.
 * Started with `nsenter --net` (not `ip netns exec`, which remounts /sys: dockerd then fails with
 * "Devices cgroup isn't mounted"), with its own data root, exec root, socket, pid file, cgroup
 * parent and bridge subnet, so that engines share nothing but the kernel. Images come from the
 * host's engine by `docker save | docker load`: no registry is reachable from here.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export class NetnsEngine {
  readonly socket: string;
  readonly #pidFile: string;
  readonly #dataRoot: string;
  readonly #execRoot: string;
  readonly #log: string;

  /**
   * @param netns the namespace (under /run/netns) it runs in
   * @param dir where its files go (data root, socket, log); removed by {@link remove}
   * @param bridgeCidr the engine's docker0 address, e.g. 172.30.1.1/24
   */
  constructor(
    readonly netns: string,
    readonly dir: string,
    readonly bridgeCidr: string,
  ) {
    this.socket = join(dir, 'docker.sock');
    this.#pidFile = join(dir, 'docker.pid');
    this.#dataRoot = join(dir, 'data');
    // Short: containerd's socket path under it must fit a unix socket's 108 bytes.
    this.#execRoot = join('/run', `shoal-${netns.slice(-12)}`);
    this.#log = join(dir, 'dockerd.log');
  }

  /** `DOCKER_HOST` for a client of this engine. */
  get dockerHost(): string {
    return `unix://${this.socket}`;
  }

  /** Start dockerd (detached: it outlives the process that started it) and wait until it answers. */
  async start(timeoutMs = 30_000): Promise<void> {
    mkdirSync(this.#dataRoot, { recursive: true });
    const out = openSync(this.#log, 'a');
    const child = spawn(
      'nsenter',
      [
        `--net=/run/netns/${this.netns}`,
        '--',
        'dockerd',
        '--data-root',
        this.#dataRoot,
        '--exec-root',
        this.#execRoot,
        '-H',
        this.dockerHost,
        '--pidfile',
        this.#pidFile,
        '--cgroup-parent',
        `shoal-${this.netns}`,
        '--bip',
        this.bridgeCidr,
      ],
      { detached: true, stdio: ['ignore', out, out] },
    );
    child.unref();
    const deadline = Date.now() + timeoutMs;
    while (!this.answers()) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`dockerd in ${this.netns} did not start:\n${this.logTail()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  answers(): boolean {
    try {
      this.docker(['version', '--format', '{{.Server.Version}}']);
      return true;
    } catch {
      return false;
    }
  }

  /** Run the docker CLI against this engine; its stdout. */
  docker(args: readonly string[], input?: Buffer): string {
    return execFileSync('docker', args, {
      env: { ...process.env, DOCKER_HOST: this.dockerHost },
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(input ? { input } : {}),
    });
  }

  /** Copy images from the host's engine into this one. */
  loadImages(images: readonly string[]): void {
    if (images.length === 0) return;
    const archive = execFileSync('docker', ['save', ...images], { maxBuffer: 2 ** 31 });
    this.docker(['load', '--quiet'], archive);
  }

  /** Stop dockerd (its containers with it) and wait for it to exit. */
  async stop(timeoutMs = 20_000): Promise<void> {
    const pid = this.#pid();
    if (pid === null) return;
    try {
      // Containers first: the engine would otherwise leave their shims running.
      const ids = this.docker(['ps', '-aq']).split('\n').filter(Boolean);
      if (ids.length > 0) this.docker(['rm', '-f', ...ids]);
    } catch {
      // the engine is already going; stop it anyway
    }
    signal(pid, 'SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) signal(pid, 'SIGKILL');
  }

  /** Remove its files (after {@link stop}); mounts it left are unmounted first. */
  remove(): void {
    for (const root of [this.#dataRoot, this.#execRoot]) {
      const mounts = readFileSync('/proc/mounts', 'utf8')
        .split('\n')
        .map((line) => line.split(' ')[1] ?? '')
        .filter((mount) => mount.startsWith(root))
        .sort((a, b) => b.length - a.length);
      for (const mount of mounts) execFileSync('umount', ['-l', mount], { stdio: 'ignore' });
      rmSync(root, { recursive: true, force: true });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  logTail(bytes = 3000): string {
    return existsSync(this.#log) ? readFileSync(this.#log, 'utf8').slice(-bytes) : '(no log)';
  }

  #pid(): number | null {
    if (!existsSync(this.#pidFile)) return null;
    const pid = Number(readFileSync(this.#pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone already
  }
}
