/**
 * A LAN of separate network namespaces on this machine, for tests of what partitions do: each
 * host is a namespace with its own address on a bridge that the test owns, so nothing passes
 * between hosts but their own traffic. The bridge lives in a namespace of its own (the switch):
 * in the root namespace Docker's iptables rules (FORWARD policy DROP, br_netfilter) would drop
 * the bridged traffic. `cut(i)` takes a host's link down (packets vanish, no TCP
 * reset: a pulled cable), `heal(i)` brings it back. Needs root (CI runs as root).
 *
 * Processes are started in a host with `nsenter --net=/run/netns/NAME`, not `ip netns exec`,
 * which remounts /sys and hides the cgroup v1 mounts that the process runtime and dockerd use.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface NetHost {
  readonly name: string;
  /** The namespace's address on the bridge, e.g. 10.214.7.2. */
  readonly address: string;
  /** The bridge side of its veth pair: down means cut. */
  readonly link: string;
}

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });

export class NetBed {
  readonly hosts: NetHost[] = [];
  readonly #bridge: string;
  readonly #switch: string;
  readonly #subnet: number;
  #up = false;

  /**
   * `count` hosts on a fresh bridge; nothing is created until {@link up}. Pass the `tag` of a bed
   * made earlier (by another process) to address it again, e.g. to take it down.
   */
  constructor(
    readonly count: number,
    readonly tag: string = randomBytes(3).toString('hex'),
    existing = false,
  ) {
    if (!/^[0-9a-f]{6}$/.test(tag)) throw new Error(`a net bed tag is 6 hex digits, got ${JSON.stringify(tag)}`);
    this.#up = existing;
    this.#bridge = `sbr${tag}`;
    this.#switch = `shoal-nb-${tag}-sw`;
    // a private /24 per bed, picked from the tag so parallel test files do not collide
    this.#subnet = 16 + (parseInt(tag.slice(0, 2), 16) % 200);
    for (let i = 0; i < count; i++) {
      this.hosts.push({
        name: `shoal-nb-${tag}-${i}`,
        address: `10.214.${this.#subnet}.${i + 2}`,
        link: `sv${tag}${i}`,
      });
    }
  }

  /** Create the bridge, the namespaces and their links. */
  up(): void {
    if (process.getuid?.() !== 0) throw new Error('the network test bed makes network namespaces and needs root');
    this.#up = true;
    const sw = this.#switch;
    ip('netns', 'add', sw);
    ip('-n', sw, 'link', 'add', this.#bridge, 'type', 'bridge');
    ip('-n', sw, 'link', 'set', this.#bridge, 'up');
    for (const host of this.hosts) {
      const inner = `${host.link}i`;
      ip('netns', 'add', host.name);
      ip('link', 'add', host.link, 'type', 'veth', 'peer', 'name', inner);
      ip('link', 'set', inner, 'netns', host.name);
      ip('link', 'set', host.link, 'netns', sw);
      ip('-n', sw, 'link', 'set', host.link, 'master', this.#bridge);
      ip('-n', sw, 'link', 'set', host.link, 'up');
      ip('-n', host.name, 'addr', 'add', `${host.address}/24`, 'dev', inner);
      ip('-n', host.name, 'link', 'set', inner, 'up');
      ip('-n', host.name, 'link', 'set', 'lo', 'up');
    }
  }

  /** The command prefix that runs a program inside host `i`'s network namespace. */
  enter(i: number): string[] {
    return ['nsenter', `--net=/run/netns/${this.hosts[i]!.name}`, '--'];
  }

  /** Pull host `i`'s cable: its packets are dropped both ways, with no reset. */
  cut(i: number): void {
    ip('-n', this.#switch, 'link', 'set', this.hosts[i]!.link, 'down');
  }

  heal(i: number): void {
    ip('-n', this.#switch, 'link', 'set', this.hosts[i]!.link, 'up');
  }

  /** Remove everything; safe to call twice or after a failed `up`. */
  down(): void {
    if (!this.#up) return;
    this.#up = false;
    // deleting the namespaces deletes their links and the bridge with them
    for (const name of [...this.hosts.map((h) => h.name), this.#switch]) {
      try {
        ip('netns', 'del', name);
      } catch {
        // never made
      }
    }
  }
}
