/**
 * VipInterface: the service addresses (VIPs) this node needs, as /32 addresses on a link of
 * their own (`shoal0`) in the node's network namespace. Containers reach them through their
 * bridge gateway (the host routes them locally), host processes directly; the proxy and the
 * DNS listen on them. Level-triggered: `sync(wanted)` makes the link hold exactly `wanted`,
 * whatever an earlier run or a crash left, and every operation is idempotent.
 *
 * The link is a `dummy` device; where the kernel has no dummy driver (some VMs), an empty
 * bridge does the same job: a bridge without ports carries no traffic of its own either.
 */
import { isIPv4 } from 'node:net';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { CommandRunner } from './command.js';
import { CommandError } from './errors.js';

/** The default link name. */
export const VIP_LINK = 'shoal0';

export interface VipInterfaceOptions {
  /** Runs `ip` (see `execRunner`). */
  readonly run: CommandRunner;
  /** Default {@link VIP_LINK}. */
  readonly name?: string;
  readonly logger?: Logger;
}

/** What a `sync` changed. */
export interface VipSyncResult {
  readonly added: string[];
  readonly removed: string[];
}

// iproute2 says these in two dialects (old RTNETLINK text and newer extack messages).
const ALREADY_THERE = /File exists|already assigned/i;
const NOT_THERE = /Cannot assign requested address|not found|does not exist|Cannot find device/i;
const NO_DUMMY = /Unknown device type|not supported/i;

/**
 * @example
 * const vips = new VipInterface({ run: execRunner() });
 * await vips.sync(new Set(['10.253.0.1', '10.253.0.17']));
 */
export class VipInterface {
  readonly name: string;
  readonly #run: CommandRunner;
  readonly #log: Logger;
  /** Operations run one at a time: two overlapping syncs would undo each other's diffs. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: VipInterfaceOptions) {
    this.name = options.name ?? VIP_LINK;
    if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(this.name)) {
      throw new TypeError(`Cannot use link name ${JSON.stringify(this.name)}: expected 1-15 letters, digits, _ . -`);
    }
    this.#run = options.run;
    this.#log = (options.logger ?? pino({ level: 'silent' })).child({ component: 'mesh-vip', link: this.name });
  }

  /** Create the link if it is missing and bring it up. */
  ensure(options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.#serial(() => this.#ensure(options.signal));
  }

  /** The IPv4 addresses on the link (empty when the link does not exist). */
  list(options: { signal?: AbortSignal } = {}): Promise<Set<string>> {
    return this.#serial(() => this.#list(options.signal));
  }

  add(address: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    checkAddress(address);
    return this.#serial(async () => {
      await this.#ensure(options.signal);
      await this.#addr('add', address, options.signal);
    });
  }

  remove(address: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    checkAddress(address);
    return this.#serial(() => this.#addr('del', address, options.signal));
  }

  /** Make the link hold exactly `wanted` (creating the link if needed). */
  sync(wanted: ReadonlySet<string>, options: { signal?: AbortSignal } = {}): Promise<VipSyncResult> {
    for (const address of wanted) checkAddress(address);
    return this.#serial(async () => {
      await this.#ensure(options.signal);
      const current = await this.#list(options.signal);
      const added = [...wanted].filter((a) => !current.has(a)).sort();
      const removed = [...current].filter((a) => !wanted.has(a)).sort();
      for (const address of added) await this.#addr('add', address, options.signal);
      for (const address of removed) await this.#addr('del', address, options.signal);
      if (added.length + removed.length > 0) this.#log.info({ added, removed }, 'service addresses changed');
      return { added, removed };
    });
  }

  /** Delete the link and every address on it (a node leaving the mesh). */
  destroy(options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.#serial(async () => {
      const result = await this.#run('ip', ['link', 'del', this.name], options);
      if (result.code !== 0 && !NOT_THERE.test(result.stderr)) {
        throw new CommandError('ip', ['link', 'del', this.name], result.code, result.stderr);
      }
    });
  }

  #serial<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(operation, operation);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #ensure(signal?: AbortSignal): Promise<void> {
    const shown = await this.#run('ip', ['-j', 'link', 'show', 'dev', this.name], { signal });
    if (shown.code !== 0) {
      const made = await this.#must(['link', 'add', this.name, 'type', 'dummy'], signal, (stderr) => {
        if (ALREADY_THERE.test(stderr)) return 'ok';
        return NO_DUMMY.test(stderr) ? 'fallback' : 'fail';
      });
      if (made === 'fallback') {
        this.#log.info('no dummy link driver in this kernel: using an empty bridge for the service addresses');
        await this.#must(['link', 'add', this.name, 'type', 'bridge'], signal, (e) =>
          ALREADY_THERE.test(e) ? 'ok' : 'fail',
        );
      }
      this.#log.info('created the service address link');
    }
    if (shown.code !== 0 || !/"UP"/.test(shown.stdout)) {
      await this.#must(['link', 'set', this.name, 'up'], signal, () => 'fail');
    }
  }

  async #list(signal?: AbortSignal): Promise<Set<string>> {
    const result = await this.#run('ip', ['-j', '-4', 'addr', 'show', 'dev', this.name], { signal });
    if (result.code !== 0) {
      if (NOT_THERE.test(result.stderr)) return new Set();
      throw new CommandError('ip', ['-j', '-4', 'addr', 'show', 'dev', this.name], result.code, result.stderr);
    }
    return parseAddresses(result.stdout);
  }

  async #addr(verb: 'add' | 'del', address: string, signal?: AbortSignal): Promise<void> {
    const benign = verb === 'add' ? ALREADY_THERE : NOT_THERE;
    await this.#must(['addr', verb, `${address}/32`, 'dev', this.name], signal, (e) =>
      benign.test(e) ? 'ok' : 'fail',
    );
  }

  /** Run `ip args`; on failure ask `judge` whether the error means the goal already holds. */
  async #must(
    args: readonly string[],
    signal: AbortSignal | undefined,
    judge: (stderr: string) => 'ok' | 'fallback' | 'fail',
  ): Promise<'done' | 'ok' | 'fallback'> {
    const result = await this.#run('ip', args, { signal });
    if (result.code === 0) return 'done';
    const verdict = judge(result.stderr);
    if (verdict === 'fail') throw new CommandError('ip', args, result.code, result.stderr);
    return verdict;
  }
}

function checkAddress(address: string): void {
  if (!isIPv4(address)) {
    throw new TypeError(`Cannot put ${JSON.stringify(address)} on the service link: expected an IPv4 address`);
  }
}

/** The IPv4 addresses in `ip -j addr show` output. */
export function parseAddresses(json: string): Set<string> {
  const out = new Set<string>();
  let links: unknown;
  try {
    links = JSON.parse(json === '' ? '[]' : json);
  } catch (err) {
    throw new TypeError(`Cannot read the output of \`ip -j addr show\` as JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(links)) return out;
  for (const link of links) {
    const infos: unknown = isRecord(link) ? link.addr_info : undefined;
    if (!Array.isArray(infos)) continue;
    for (const info of infos) {
      if (isRecord(info) && info.family === 'inet' && typeof info.local === 'string') out.add(info.local);
    }
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
