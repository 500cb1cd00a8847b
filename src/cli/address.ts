/**
 * Where the CLI finds an agent: `--addr`, else `SHOAL_ADDR`, else the local agent's socket
 * (`$SHOAL_DATA_DIR/shoal.sock`, `/var/lib/shoal/shoal.sock`), else `127.0.0.1:7900`.
 * @module
 */
import { existsSync } from 'node:fs';
import { UsageError } from './errors.js';

/** The agent's default TCP port for the admin API. */
export const DEFAULT_PORT = 7900;
/** The packaged agent's default data directory. */
export const DEFAULT_DATA_DIR = '/var/lib/shoal';
/** The socket's file name inside the data directory. */
export const SOCKET_NAME = 'shoal.sock';

/** A parsed agent address. */
export type AgentAddress =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp'; readonly tls: boolean; readonly host: string; readonly port: number };

/** An address together with where it came from, for error messages. */
export interface ResolvedAddress {
  readonly address: AgentAddress;
  /** e.g. "--addr", "SHOAL_ADDR", "default". */
  readonly source: string;
}

const ADDRESS_FORMS = 'unix:///path/shoal.sock, /path/shoal.sock, host:port or http(s)://host:port';

/**
 * Parse an address as `--addr` takes it.
 * @example parseAddress('unix:///var/lib/shoal/shoal.sock') // { kind: 'unix', path: '/var/lib/shoal/shoal.sock' }
 * @example parseAddress('10.0.0.5:7900') // { kind: 'tcp', tls: false, host: '10.0.0.5', port: 7900 }
 */
export function parseAddress(text: string): AgentAddress {
  const value = text.trim();
  const bad = (why: string) =>
    new UsageError(`cannot use address ${JSON.stringify(text)}: ${why}; expected ${ADDRESS_FORMS}`);
  if (value === '') throw bad('it is empty');
  if (value.startsWith('unix://')) {
    const path = value.slice('unix://'.length);
    if (path === '') throw bad('no socket path after unix://');
    return { kind: 'unix', path };
  }
  if (value.startsWith('/') || value.startsWith('./') || value.endsWith('.sock')) return { kind: 'unix', path: value };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
  if (scheme !== undefined && !['http', 'https', 'tcp'].includes(scheme)) throw bad(`unknown scheme ${scheme}://`);
  let url: URL;
  try {
    url = new URL(scheme === undefined ? `tcp://${value}` : value);
  } catch {
    throw bad('it is not a host:port');
  }
  if (url.hostname === '') throw bad('no host');
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.username !== '') {
    throw bad('only a host and a port are allowed');
  }
  const tls = url.protocol === 'https:';
  const fallback = url.protocol === 'http:' ? 80 : tls ? 443 : DEFAULT_PORT;
  const port = url.port === '' ? fallback : Number(url.port);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { kind: 'tcp', tls, host, port };
}

/**
 * The address in the form `--addr` takes, for messages.
 * @example formatAddress({ kind: 'tcp', tls: false, host: '::1', port: 7900 }) // "[::1]:7900"
 */
export function formatAddress(address: AgentAddress): string {
  if (address.kind === 'unix') return `unix://${address.path}`;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return address.tls ? `https://${host}:${address.port}` : `${host}:${address.port}`;
}

/** Inputs of {@link resolveAddress}; `fileExists` is injectable so tests do not depend on /var/lib. */
export interface ResolveAddressInput {
  readonly flag?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly fileExists?: (path: string) => boolean;
}

/**
 * Choose the agent address: `--addr`, `SHOAL_ADDR`, `$SHOAL_DATA_DIR/shoal.sock`,
 * `/var/lib/shoal/shoal.sock` when it exists, then `127.0.0.1:7900`.
 */
export function resolveAddress(input: ResolveAddressInput): ResolvedAddress {
  if (input.flag !== undefined) return { address: parseAddress(input.flag), source: '--addr' };
  const fromEnv = input.env.SHOAL_ADDR;
  if (fromEnv !== undefined && fromEnv !== '') return { address: parseAddress(fromEnv), source: 'SHOAL_ADDR' };
  const dataDir = input.env.SHOAL_DATA_DIR;
  if (dataDir !== undefined && dataDir !== '') {
    return { address: { kind: 'unix', path: joinPath(dataDir, SOCKET_NAME) }, source: 'SHOAL_DATA_DIR' };
  }
  const packaged = joinPath(DEFAULT_DATA_DIR, SOCKET_NAME);
  if ((input.fileExists ?? existsSync)(packaged))
    return { address: { kind: 'unix', path: packaged }, source: 'default' };
  return { address: { kind: 'tcp', tls: false, host: '127.0.0.1', port: DEFAULT_PORT }, source: 'default' };
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}
