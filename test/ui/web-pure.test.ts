/** The web UI's pure parts: its routes, the NDJSON reader, and how it writes values. */
import { ago, bytes, stateTone } from '../../src/ui/web/format.js';
import { NdjsonError, NdjsonSplitter, streamError } from '../../src/ui/web/ndjson.js';
import { href, parseRoute, type UiRoute } from '../../src/ui/web/routes.js';

describe('parseRoute() and href()', () => {
  it.each<[string, UiRoute]>([
    ['', { page: 'cluster' }],
    ['#/', { page: 'cluster' }],
    ['#/nodes', { page: 'nodes' }],
    ['#/stacks', { page: 'stacks' }],
    ['#/stacks/web', { page: 'stack', name: 'web' }],
    ['#/services/web_api', { page: 'service', id: 'web_api' }],
    ['#/services/web_api/logs', { page: 'service-logs', service: 'web_api' }],
    ['#/services/web_api/logs/t%2F1', { page: 'service-logs', service: 'web_api', task: 't/1' }],
    ['#/jobs', { page: 'jobs' }],
    ['#/jobs/17_3/logs', { page: 'job-logs', job: '17_3' }],
    ['#/events', { page: 'events' }],
  ])('%s is %j, and back', (hash, route) => {
    expect(parseRoute(hash)).toEqual(route);
    expect(parseRoute(href(route))).toEqual(route);
  });

  it('takes an unknown or malformed fragment for the cluster page', () => {
    expect(parseRoute('#/nope')).toEqual({ page: 'cluster' });
    expect(parseRoute('#/stacks/%E0%A4%A')).toEqual({ page: 'stack', name: '%E0%A4%A' });
  });
});

describe('NdjsonSplitter', () => {
  const bytesOf = (text: string) => new TextEncoder().encode(text);

  it('keeps a line cut between chunks (even inside a UTF-8 character) until it is complete', () => {
    const splitter = new NdjsonSplitter();
    const all = bytesOf('{"a":1}\n{"name":"café"}\n{"b"');
    expect(splitter.push(all.slice(0, 20))).toEqual([{ a: 1 }]);
    expect(splitter.push(all.slice(20))).toEqual([{ name: 'café' }]);
    expect(splitter.push(bytesOf(':2}'))).toEqual([]);
    expect(splitter.end()).toEqual([{ b: 2 }]);
  });

  it('refuses a line that is not JSON, quoting it', () => {
    expect(() => new NdjsonSplitter().push(bytesOf('<html>\n'))).toThrow(
      new NdjsonError('Cannot read the stream: a line is not JSON: "<html>"'),
    );
  });

  it('streamError() recognises the error line that ends a failed stream', () => {
    expect(streamError({ error: { code: 'unavailable', message: 'no leader' } })).toEqual({
      code: 'unavailable',
      message: 'no leader',
    });
    expect(streamError({ index: 1, type: 'task' })).toBeUndefined();
  });
});

describe('format', () => {
  it.each([
    [59_000, '59s ago'],
    [61_000, '1m ago'],
    [3 * 3_600_000, '3h ago'],
    [2 * 86_400_000, '2d ago'],
  ])('ago() of %i ms is %s', (elapsed, text) => {
    expect(ago(1_000_000_000_000, 1_000_000_000_000 + elapsed)).toBe(text);
  });

  it('bytes() uses binary units', () => {
    expect([bytes(512), bytes(1536), bytes(16 * 1024 ** 3), bytes(null)]).toEqual(['512 B', '1.5 KiB', '16 GiB', '-']);
  });

  it.each([
    ['running', 'ok'],
    ['failed', 'bad'],
    ['pending', 'busy'],
    ['shutdown', 'idle'],
  ])('stateTone(%s) is %s', (state, tone) => {
    expect(stateTone(state)).toBe(tone);
  });
});
