/**
 * Compose `platform:` (`os[/arch[/variant]]`, as in `linux/arm64/v8`), parsed and normalized the
 * way Docker (containerd's `platforms.Normalize`) does, so that `linux/x86_64` and `linux/amd64`
 * mean one thing. Pure: no Reader, no scheduler types; the scheduler uses {@link normalizeArch}
 * to compare a node's architecture with a constraint's.
 *
 * @module
 */
import type { ConstraintSpec, PlatformSpec } from './spec.js';

/** Operating systems Go (and so Docker) knows. */
const KNOWN_OS = new Set([
  'aix',
  'android',
  'darwin',
  'dragonfly',
  'freebsd',
  'illumos',
  'ios',
  'js',
  'linux',
  'netbsd',
  'openbsd',
  'plan9',
  'solaris',
  'wasip1',
  'windows',
]);

/** Architectures Go (and so Docker) knows, in their normalized names. */
const KNOWN_ARCH = new Set([
  '386',
  'amd64',
  'arm',
  'arm64',
  'loong64',
  'mips',
  'mips64',
  'mips64le',
  'mipsle',
  'ppc64',
  'ppc64le',
  'riscv64',
  's390x',
  'wasm',
]);

/** Other names of one architecture: uname's (`x86_64`, `aarch64`), Debian's (`armhf`), Node's (`x64`, `ia32`). */
const ARCH_ALIASES: Readonly<Record<string, { arch: string; variant?: string }>> = {
  x86_64: { arch: 'amd64' },
  'x86-64': { arch: 'amd64' },
  x64: { arch: 'amd64' },
  aarch64: { arch: 'arm64' },
  armhf: { arch: 'arm', variant: 'v7' },
  armel: { arch: 'arm', variant: 'v6' },
  i386: { arch: '386' },
  i686: { arch: '386' },
  ia32: { arch: '386' },
};

/**
 * An architecture name as Docker normalizes it: `x86_64` → `amd64`, `aarch64` → `arm64`,
 * `i386` → `386`, lowercased; unknown names are only lowercased.
 *
 * @example
 * ```ts
 * normalizeArch('x86_64'); // 'amd64'
 * normalizeArch('AArch64'); // 'arm64'
 * ```
 */
export function normalizeArch(arch: string): string {
  const lower = arch.toLowerCase();
  return ARCH_ALIASES[lower]?.arch ?? lower;
}

/**
 * Parses `os[/arch[/variant]]`. Names are lowercased and the architecture normalized; the default
 * variant is dropped (`arm64/v8` is `arm64`, `amd64/v1` is `amd64`) and `arm` without one is `v7`,
 * as containerd does. Throws a `RangeError` naming the part it does not know.
 *
 * @example
 * ```ts
 * parsePlatform('linux/aarch64/v8'); // { os: 'linux', arch: 'arm64', variant: null }
 * parsePlatform('linux/arm'); // { os: 'linux', arch: 'arm', variant: 'v7' }
 * ```
 */
export function parsePlatform(text: string): PlatformSpec {
  const parts = text.trim().toLowerCase().split('/');
  const shape = 'expected os[/arch[/variant]] such as linux/amd64 or linux/arm64/v8';
  if (parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p)))
    throw new RangeError(`${shape}, got ${JSON.stringify(text)}`);
  let os = parts[0]!;
  if (os === 'macos') os = 'darwin';
  if (!KNOWN_OS.has(os))
    throw new RangeError(`unknown operating system ${JSON.stringify(parts[0])} in ${JSON.stringify(text)}: ${shape}`);
  if (parts[1] === undefined) return { os, arch: null, variant: null };
  const alias = ARCH_ALIASES[parts[1]];
  const arch = alias?.arch ?? parts[1];
  if (!KNOWN_ARCH.has(arch))
    throw new RangeError(
      `unknown architecture ${JSON.stringify(parts[1])} in ${JSON.stringify(text)}: use one of ${[...KNOWN_ARCH].join(', ')} (or x86_64, aarch64)`,
    );
  let variant: string | null = parts[2] ?? alias?.variant ?? null;
  if (variant !== null && /^\d+$/.test(variant)) variant = `v${variant}`;
  if (arch === 'arm64' && variant === 'v8') variant = null;
  if (arch === 'amd64' && variant === 'v1') variant = null;
  if (arch === 'arm' && variant === null) variant = 'v7';
  return { os, arch, variant };
}

/**
 * The placement constraints a platform means: the node's OS and architecture. Nodes report no
 * variant, so `linux/arm/v6` and `linux/arm/v7` both place on any `arm` node.
 */
export function platformConstraints(p: PlatformSpec): ConstraintSpec[] {
  const out: ConstraintSpec[] = [{ attribute: 'node.platform.os', op: '==', value: p.os }];
  if (p.arch !== null) out.push({ attribute: 'node.platform.arch', op: '==', value: p.arch });
  return out;
}
