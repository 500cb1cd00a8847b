/**
 * One scrape of a task's Prometheus endpoint for the autoscaler (`x-shoal.autoscale.metric`):
 * plain HTTP GET from the node that runs the task, bounded in time (2 s) and size (1 MiB).
 *
 * @module
 */

const MAX_BYTES = 1024 * 1024;
const TIMEOUT_MS = 2_000;

/** The body of `url`; throws on a non-200 answer, a body over 1 MiB or a timeout. */
export async function scrapeText(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' });
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new Error(`GET ${url} answered ${response.status}`);
  }
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BYTES) {
      await reader.cancel();
      throw new Error(`GET ${url}: the metrics page is over ${MAX_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
