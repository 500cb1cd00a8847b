import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { CommandError, VipInterface, execRunner } from '../../src/mesh/index.js';
import type { CommandResult, CommandRunner } from '../../src/mesh/index.js';

/**
 * A model of `ip` for one namespace: enough of link and addr to check what VipInterface runs,
 * answering in iproute2's words (`dummy` may be missing, as in kernels without the driver).
 */
function fakeIp(options: { dummy?: boolean } = {}): {
  run: CommandRunner;
  calls: string[];
  addrs: Set<string>;
  link: () => string | null;
} {
  const calls: string[] = [];
  const addrs = new Set<string>();
  let link: { type: string; up: boolean } | null = null;
  const ok = (stdout = ''): CommandResult => ({ code: 0, stdout, stderr: '' });
  const fail = (stderr: string, code = 2): CommandResult => ({ code, stdout: '', stderr });
  const run: CommandRunner = async (command, args) => {
    calls.push([command, ...args].join(' '));
    const a = args.filter((x) => x !== '-j' && x !== '-4');
    if (a[0] === 'link' && a[1] === 'show') {
      if (link === null) return fail('Device "shoal0" does not exist.', 1);
      return ok(JSON.stringify([{ ifname: 'shoal0', flags: link.up ? ['BROADCAST', 'UP'] : ['BROADCAST'] }]));
    }
    if (a[0] === 'link' && a[1] === 'add') {
      if (link !== null) return fail('RTNETLINK answers: File exists');
      if (a[4] === 'dummy' && options.dummy === false) return fail('Error: Unknown device type.');
      link = { type: a[4]!, up: false };
      return ok();
    }
    if (a[0] === 'link' && a[1] === 'set') {
      if (link === null) return fail('Cannot find device "shoal0"', 1);
      link.up = true;
      return ok();
    }
    if (a[0] === 'link' && a[1] === 'del') {
      if (link === null) return fail('Cannot find device "shoal0"', 1);
      link = null;
      addrs.clear();
      return ok();
    }
    if (a[0] === 'addr' && a[1] === 'show') {
      if (link === null) return fail('Device "shoal0" does not exist.', 1);
      const info = [...addrs].map((local) => ({ family: 'inet', local, prefixlen: 32 }));
      return ok(JSON.stringify([{ ifname: 'shoal0', addr_info: info }]));
    }
    if (a[0] === 'addr' && (a[1] === 'add' || a[1] === 'del')) {
      if (link === null) return fail('Cannot find device "shoal0"', 1);
      const address = a[2]!.replace('/32', '');
      if (a[1] === 'add' && addrs.has(address)) return fail('Error: ipv4: Address already assigned.');
      if (a[1] === 'del' && !addrs.has(address)) return fail('Error: ipv4: Address not found.');
      if (a[1] === 'add') addrs.add(address);
      else addrs.delete(address);
      return ok();
    }
    return fail(`unexpected ip ${args.join(' ')}`, 255);
  };
  return { run, calls, addrs, link: () => link?.type ?? null };
}

describe('VipInterface', () => {
  it('sync() creates the link, brings it up and makes it hold exactly the wanted addresses', async () => {
    const ip = fakeIp();
    const vips = new VipInterface({ run: ip.run });
    await expect(vips.sync(new Set(['10.253.0.1', '10.253.0.7']))).resolves.toEqual({
      added: ['10.253.0.1', '10.253.0.7'],
      removed: [],
    });
    expect(ip.link()).toBe('dummy');
    expect(ip.calls).toContain('ip link set shoal0 up');
    await expect(vips.sync(new Set(['10.253.0.1', '10.253.0.9']))).resolves.toEqual({
      added: ['10.253.0.9'],
      removed: ['10.253.0.7'],
    });
    expect(ip.addrs).toEqual(new Set(['10.253.0.1', '10.253.0.9']));
    const before = ip.calls.length;
    await expect(vips.sync(new Set(['10.253.0.1', '10.253.0.9']))).resolves.toEqual({ added: [], removed: [] });
    expect(ip.calls.slice(before)).toEqual(['ip -j link show dev shoal0', 'ip -j -4 addr show dev shoal0']);
  });

  it('add() and remove() are idempotent', async () => {
    const ip = fakeIp();
    const vips = new VipInterface({ run: ip.run });
    await vips.add('10.253.0.3');
    await vips.add('10.253.0.3');
    await vips.remove('10.253.0.3');
    await vips.remove('10.253.0.3');
    await expect(vips.list()).resolves.toEqual(new Set());
  });

  it('falls back to an empty bridge where the kernel has no dummy driver', async () => {
    const ip = fakeIp({ dummy: false });
    await new VipInterface({ run: ip.run }).sync(new Set(['10.253.0.1']));
    expect(ip.link()).toBe('bridge');
  });

  it('list() of a missing link is empty; destroy() removes it and is idempotent', async () => {
    const ip = fakeIp();
    const vips = new VipInterface({ run: ip.run });
    await expect(vips.list()).resolves.toEqual(new Set());
    await vips.sync(new Set(['10.253.0.1']));
    await vips.destroy();
    await vips.destroy();
    expect(ip.link()).toBeNull();
  });

  it('overlapping syncs run one after the other, the last one winning', async () => {
    const ip = fakeIp();
    const vips = new VipInterface({ run: ip.run });
    await Promise.all([vips.sync(new Set(['10.253.0.1', '10.253.0.2'])), vips.sync(new Set(['10.253.0.3']))]);
    expect(ip.addrs).toEqual(new Set(['10.253.0.3']));
  });

  it('rejects what is not an IPv4 address, and reports a failing command with its output', async () => {
    const vips = new VipInterface({ run: fakeIp().run });
    await expect(() => vips.sync(new Set(['10.253.0.300']))).toThrow(/expected an IPv4 address/);
    const broken = new VipInterface({
      run: async () => ({ code: 2, stdout: '', stderr: 'RTNETLINK answers: Operation not permitted' }),
    });
    const failure = broken.sync(new Set(['10.253.0.1']));
    await expect(failure).rejects.toBeInstanceOf(CommandError);
    await expect(failure).rejects.toThrow(/Operation not permitted/);
    expect(() => new VipInterface({ run: fakeIp().run, name: 'a name that is too long' })).toThrow(/link name/);
  });
});

const root = process.getuid?.() === 0;
const describeRoot = root ? describe : describe.skip;
if (!root) process.stdout.write('skipping the VipInterface test in a network namespace: it needs root\n');

describeRoot('VipInterface in a network namespace (root)', () => {
  const netns = `shoal-vip-${randomBytes(3).toString('hex')}`;

  beforeAll(() => execFileSync('ip', ['netns', 'add', netns]));
  afterAll(() => execFileSync('ip', ['netns', 'del', netns]));

  it('sync() puts the addresses on shoal0 with the real ip, and they are local', async () => {
    const run = execRunner(['nsenter', `--net=/run/netns/${netns}`, '--']);
    const vips = new VipInterface({ run });
    await vips.sync(new Set(['10.253.0.1', '10.253.0.7']));
    await vips.sync(new Set(['10.253.0.1', '10.253.0.8']));
    await expect(vips.list()).resolves.toEqual(new Set(['10.253.0.1', '10.253.0.8']));
    const routes = execFileSync('ip', ['-n', netns, 'route', 'show', 'table', 'local'], { encoding: 'utf8' });
    expect(routes).toMatch(/local 10\.253\.0\.8 dev shoal0/);
    expect(routes).not.toMatch(/10\.253\.0\.7/);
    await vips.destroy();
    await expect(vips.list()).resolves.toEqual(new Set());
  });
});
