/**
 * The web UI's files, served by the admin API under `/ui` from memory: the single executable
 * carries them as strings (scripts/bundle.mjs inlines them), nothing is read from disk.
 *
 * They hold no cluster data, so they are served without the admin token: a browser cannot send a
 * header when a person opens a page. Every API call the page then makes carries the token.
 * @module
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** One file: its content type and text. */
export interface StaticFile {
  readonly type: string;
  readonly body: string;
}

/** Files by name; `index.html` is the page at `/ui`. Plain JSON, so a bundler can inline it. */
export type StaticFiles = Readonly<Record<string, StaticFile>>;

/** Serves a fixed set of files under a path prefix. */
export interface StaticSite {
  /**
   * Answer `method` on `pathname` if it is the site's (the prefix, anything under it, and `/`,
   * which redirects to the page). Returns false, sending nothing, for any other path.
   */
  serve(method: string, pathname: string, res: ServerResponse): boolean;
}

/**
 * What the page may do: its own scripts, styles and API calls, nothing inline, nothing from
 * elsewhere, and no framing (clickjacking an action button).
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
} as const;

interface Prepared {
  readonly type: string;
  readonly bytes: Buffer;
  readonly etag: string;
}

/**
 * A {@link StaticSite} over `files` at `prefix` (default `/ui`). `index.html` answers `/ui` and
 * `/ui/`; the page routes with the URL's fragment (`/ui/#/nodes`), so no other path is a page.
 * Files are revalidated by ETag on each load (`no-cache`): an upgraded agent serves its own UI.
 * @example createStaticSite({ 'index.html': { type: 'text/html; charset=utf-8', body: '<!doctype html>…' } })
 */
export function createStaticSite(files: StaticFiles, prefix = '/ui'): StaticSite {
  if (files['index.html'] === undefined) throw new TypeError('Cannot serve the web UI without its index.html');
  const prepared = new Map<string, Prepared>();
  for (const [name, file] of Object.entries(files)) {
    const bytes = Buffer.from(file.body, 'utf8');
    const etag = `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 22)}"`;
    prepared.set(name, { type: file.type, bytes, etag });
  }
  return {
    serve(method, pathname, res) {
      if (pathname === '/') {
        if (method !== 'GET' && method !== 'HEAD') return false; // the API's own 404/405
        res.writeHead(302, { location: `${prefix}/`, 'content-length': 0 });
        res.end();
        return true;
      }
      if (pathname !== prefix && !pathname.startsWith(`${prefix}/`)) return false;
      const name = pathname === prefix || pathname === `${prefix}/` ? 'index.html' : pathname.slice(prefix.length + 1);
      const file = prepared.get(name);
      if (method !== 'GET' && method !== 'HEAD') {
        sendText(res, 405, `${method} is not allowed on ${pathname}; use GET`, { allow: 'GET, HEAD' });
      } else if (file === undefined) {
        sendText(res, 404, `no such file in the web UI: ${pathname} (the UI lives at ${prefix}/)`);
      } else {
        sendFile(res, method, file, res.req?.headers['if-none-match']);
      }
      return true;
    },
  };
}

function sendFile(res: ServerResponse, method: string, file: Prepared, ifNoneMatch: string | undefined): void {
  const headers = { ...SECURITY_HEADERS, etag: file.etag, 'cache-control': 'no-cache' };
  if (ifNoneMatch === file.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-type': file.type, 'content-length': file.bytes.byteLength });
  res.end(method === 'HEAD' ? undefined : file.bytes);
}

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const bytes = Buffer.from(`${text}\n`, 'utf8');
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    ...headers,
    'content-type': 'text/plain; charset=utf-8',
    'content-length': bytes.byteLength,
  });
  res.end(bytes);
}
