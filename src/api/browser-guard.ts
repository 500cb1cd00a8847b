/**
 * What keeps a web page from driving the admin API through a browser on the operator's machine.
 * A listener without the token (loopback) trusts whoever connects, and a browser will connect
 * for any page it shows: a page of another site can POST a body with no content type without
 * any CORS check, and a DNS-rebound name (`evil.example` resolving to 127.0.0.1) makes its
 * requests same-origin. So on TCP listeners:
 * - a request whose `Origin` is not the agent's own address is refused (browsers send `Origin`
 *   on every cross-origin request and every POST; the CLI sends none);
 * - a listener that does not require the token answers only requests addressed to a loopback
 *   name (`Host: 127.0.0.1:7900`, `localhost`, `[::1]`), which a rebound name is not.
 * With the token required neither attack works (the page does not have the token), and the
 * `Origin` check still applies.
 * @module
 * @private
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isLoopbackHost } from './auth.js';

/**
 * Why a request that came through a TCP listener must be refused, or undefined when it may go on.
 * @example browserRefusal({ host: '127.0.0.1:7900', origin: 'https://evil.example' }, { tokenRequired: false })
 *   // 'a page of https://evil.example may not call this agent's admin API …'
 */
export function browserRefusal(
  headers: IncomingHttpHeaders,
  listener: { readonly tokenRequired: boolean },
): string | undefined {
  const host = headers.host;
  const origin = headers.origin;
  if (origin !== undefined && originHost(origin) !== host?.toLowerCase()) {
    return `a page of ${origin} may not call this agent's admin API (only the agent's own web UI at /ui may)`;
  }
  if (!listener.tokenRequired && (host === undefined || !isLoopbackHost(hostName(host)))) {
    return (
      `this listener has no admin token, so it answers only requests addressed to 127.0.0.1, localhost or [::1], ` +
      `not ${JSON.stringify(host ?? '')}: use a loopback address, or require the token on this listener`
    );
  }
  return undefined;
}

/** `http://127.0.0.1:7900` → `127.0.0.1:7900`; `null` and anything unparsable → undefined. */
function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host.toLowerCase() || undefined;
  } catch {
    return undefined;
  }
}

/** `127.0.0.1:7900` → `127.0.0.1`, `[::1]:7900` → `[::1]`, `localhost` → `localhost`. */
function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}
