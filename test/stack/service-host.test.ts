/** `platform`, `network_mode` and `runtime`: what a cluster honours, and what it refuses with the reason. */
import { formatStackError, hashService, parseStack } from '../../src/stack/index.js';
import { normalizeArch, parsePlatform, platformConstraints } from '../../src/stack/platform.js';
import { checkServiceSpec } from '../../src/state/workload-checks.js';
import { oneService, parseErrors, service } from './helpers.js';

describe('parsePlatform()', () => {
  it.each([
    ['linux/amd64', { os: 'linux', arch: 'amd64', variant: null }],
    ['linux/x86_64', { os: 'linux', arch: 'amd64', variant: null }],
    ['linux/x86-64', { os: 'linux', arch: 'amd64', variant: null }],
    ['Linux/AMD64', { os: 'linux', arch: 'amd64', variant: null }],
    ['linux/arm64', { os: 'linux', arch: 'arm64', variant: null }],
    ['linux/arm64/v8', { os: 'linux', arch: 'arm64', variant: null }],
    ['linux/aarch64', { os: 'linux', arch: 'arm64', variant: null }],
    ['linux/arm', { os: 'linux', arch: 'arm', variant: 'v7' }],
    ['linux/arm/v6', { os: 'linux', arch: 'arm', variant: 'v6' }],
    ['linux/arm/7', { os: 'linux', arch: 'arm', variant: 'v7' }],
    ['linux/armhf', { os: 'linux', arch: 'arm', variant: 'v7' }],
    ['linux/i386', { os: 'linux', arch: '386', variant: null }],
    ['linux/amd64/v3', { os: 'linux', arch: 'amd64', variant: 'v3' }],
    ['windows/amd64', { os: 'windows', arch: 'amd64', variant: null }],
    ['linux', { os: 'linux', arch: null, variant: null }],
  ])('parsePlatform(%p) normalizes as Docker does', (text, expected) => {
    expect(parsePlatform(text)).toEqual(expected);
  });

  it.each([
    ['linux/amd65', 'unknown architecture "amd65"'],
    ['linus/amd64', 'unknown operating system "linus"'],
    ['linux/amd64/v3/x', 'expected os[/arch[/variant]]'],
    ['linux//amd64', 'expected os[/arch[/variant]]'],
  ])('parsePlatform(%p) throws a RangeError saying %p', (text, message) => {
    expect(() => parsePlatform(text)).toThrow(RangeError);
    expect(() => parsePlatform(text)).toThrow(message);
  });

  it.each([
    ['x86_64', 'amd64'],
    ['x64', 'amd64'],
    ['AArch64', 'arm64'],
    ['arm64', 'arm64'],
    ['s390x', 's390x'],
  ])('normalizeArch(%p) is %p', (arch, expected) => {
    expect(normalizeArch(arch)).toBe(expected);
  });

  it('platformConstraints() constrains the OS, and the architecture when given', () => {
    expect(platformConstraints(parsePlatform('linux/arm64/v8'))).toEqual([
      { attribute: 'node.platform.os', op: '==', value: 'linux' },
      { attribute: 'node.platform.arch', op: '==', value: 'arm64' },
    ]);
    expect(platformConstraints(parsePlatform('linux'))).toEqual([
      { attribute: 'node.platform.os', op: '==', value: 'linux' },
    ]);
  });
});

describe('parseStack() platform, network_mode and runtime', () => {
  it.each([
    ['platform: linux/amd64', { platform: { os: 'linux', arch: 'amd64', variant: null } }],
    ['platform: linux/arm64/v8', { platform: { os: 'linux', arch: 'arm64', variant: null } }],
    ['network_mode: host', { networkMode: 'host', networks: [] }],
    ['network_mode: none', { networkMode: 'none', networks: [] }],
    ['runtime: nvidia', { ociRuntime: 'nvidia' }],
    ['runtime: io.containerd.runsc.v1', { ociRuntime: 'io.containerd.runsc.v1' }],
  ])('parseStack() reads %p', (body, expected) => {
    expect(service(body)).toMatchObject(expected);
  });

  it('parseStack() leaves the fields out when the file does not set them, so older specs hash the same', () => {
    const s = service('command: [x]');
    expect('platform' in s || 'networkMode' in s || 'ociRuntime' in s).toBe(false);
    expect(hashService(s)).toBe(hashService({ ...s, platform: undefined }));
  });

  it('parseStack() discards ports with network_mode: host, as Docker does, and warns', () => {
    const r = parseStack(oneService('network_mode: host\nports: ["8080:80"]'), { file: 'compose.yml', name: 't' });
    if (!r.ok) throw new Error(r.errors.map(formatStackError).join('\n'));
    expect(r.spec.services.s!.ports).toEqual([]);
    expect(r.warnings.map(formatStackError)).toEqual([
      'compose.yml:5 services.s.ports: ports are discarded with network_mode: host, as Docker does: the container listens on the node’s own ports',
    ]);
  });

  it.each([
    [
      'platform: linux/amd65',
      'compose.yml:4 services.s.platform: unknown architecture "amd65" in "linux/amd65": use one of 386, amd64, arm, arm64, loong64, mips, mips64, mips64le, mipsle, ppc64, ppc64le, riscv64, s390x, wasm (or x86_64, aarch64)',
    ],
    [
      'platform: amd64',
      'compose.yml:4 services.s.platform: unknown operating system "amd64" in "amd64": expected os[/arch[/variant]] such as linux/amd64 or linux/arm64/v8',
    ],
    [
      'network_mode: "service:db"',
      "compose.yml:4 services.s.network_mode: network_mode: service:db is not supported: shoal places each task on its own, so it cannot join another service's network namespace; put both services on one network and reach db by name",
    ],
    [
      'network_mode: "container:abc"',
      "compose.yml:4 services.s.network_mode: network_mode: container:abc is not supported: shoal places each task on its own, so it cannot join another container's network namespace; put both services on one network and reach abc by name",
    ],
    [
      'network_mode: bridge',
      "compose.yml:4 services.s.network_mode: network_mode: bridge is not supported: services join the stack's networks (the default one when none is named); remove it",
    ],
    ['network_mode: hots', 'compose.yml:4 services.s.network_mode: expected host or none, got "hots"'],
    [
      'network_mode: host\nnetworks: [back]',
      'compose.yml:5 services.s.networks: network_mode and networks exclude each other: with network_mode: host the container joins no stack network; remove one of them',
    ],
    [
      'runtime: "nvidia gpu"',
      'compose.yml:4 services.s.runtime: expected an engine runtime name such as runc or nvidia (letters, digits, "_", "." and "-"), got "nvidia gpu"',
    ],
    [
      'networks:\n  default:\n    ipv4_address: 10.0.0.5',
      "compose.yml:6 services.s.networks.default.ipv4_address: ipv4_address is not supported: shoal allocates each task's address on its node's network; remove it and reach the service by name",
    ],
  ])('parseStack() refuses %p with the reason', (body, message) => {
    expect(parseErrors(oneService(body))).toEqual([message]);
  });

  it.each([
    ['network_mode: host', 'network_mode: a process-runtime service runs on the node itself: remove network_mode'],
    ['runtime: runc', 'runtime: runtime selects a container runtime; a process-runtime service has no container'],
  ])('parseStack() refuses %p on a process-runtime service', (body, message) => {
    const text = `services:\n  s:\n    command: [sleep, "1"]\n    x-shoal: { runtime: process }\n    ${body}\n`;
    expect(parseErrors(text)).toEqual([`compose.yml:5 services.s.${message}`]);
  });
});

describe('checkServiceSpec() on platform, networkMode and ociRuntime', () => {
  it('checkServiceSpec() accepts a spec with the fields, and one without them (parsed before they existed)', () => {
    const full = service('platform: linux/arm64\nnetwork_mode: host\nruntime: nvidia');
    expect(checkServiceSpec(full, 'spec')).toEqual(full);
    const bare = service('command: [x]');
    expect(checkServiceSpec(bare, 'spec')).toEqual(bare);
  });

  it('checkServiceSpec() refuses a network mode the runtime cannot apply', () => {
    expect(() => checkServiceSpec({ ...service('command: [x]'), networkMode: 'bridge' as 'host' }, 'spec')).toThrow(
      /spec\.networkMode/,
    );
  });
});
