/**
 * `x-shoal.image_update` (issue 15): read into the spec's optional `imageUpdate` field (absent
 * when not given, so older specs hash the same), with file:line errors.
 */
import { formatStackError, hashService, parseStack, parseStackOrThrow } from '../../src/stack/index.js';
import { checkServiceSpec } from '../../src/state/workload-checks.js';

const OPTIONS = { file: 'compose.yml', name: 'app' };
const file = (update: string | null, extra = '') =>
  `services:\n  web:\n    image: nginx\n${update === null ? '' : `    x-shoal:\n      image_update: ${update}\n${extra}`}`;

describe('x-shoal.image_update', () => {
  it('is read with its interval, 1m when not given', () => {
    expect(parseStackOrThrow(file('{interval: 30s}'), OPTIONS).services.web!.imageUpdate).toEqual({
      intervalMs: 30_000,
    });
    expect(parseStackOrThrow(file('{}'), OPTIONS).services.web!.imageUpdate).toEqual({ intervalMs: 60_000 });
  });

  it('is absent when not given, so the spec hashes as before', () => {
    const without = parseStackOrThrow(file(null), OPTIONS).services.web!;
    expect('imageUpdate' in without).toBe(false);
    const withIt = parseStackOrThrow(file('{interval: 1m}'), OPTIONS).services.web!;
    expect(hashService(withIt)).not.toBe(hashService(without));
    const { imageUpdate: _, ...rest } = withIt;
    expect(hashService(rest)).toBe(hashService(without));
  });

  it('reads policy local, false (never, even with a cluster default), and leaves policy registry out', () => {
    const read = (update: string) => parseStackOrThrow(file(update), OPTIONS).services.web!.imageUpdate;
    expect(read('{interval: 10s, policy: local}')).toEqual({ intervalMs: 10_000, policy: 'local' });
    expect(read('{policy: registry}')).toEqual({ intervalMs: 60_000 });
    expect(read('false')).toBe(false);
    const spec = parseStackOrThrow(file('{policy: local}'), OPTIONS).services.web!;
    expect(checkServiceSpec(spec, 'spec').imageUpdate).toEqual({ intervalMs: 60_000, policy: 'local' });
    expect(checkServiceSpec({ ...spec, imageUpdate: false }, 'spec').imageUpdate).toBe(false);
    expect(() => checkServiceSpec({ ...spec, imageUpdate: { intervalMs: 5_000, policy: 'nightly' } }, 'spec')).toThrow(
      /spec\.imageUpdate\.policy: expected "local" \(or no policy\), got "nightly"/,
    );
    const result = parseStack(file('{policy: nightly}'), OPTIONS);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.errors.map(formatStackError).join('\n')).toMatch(
        /image_update\.policy: expected one of registry, local, got "?nightly"?/,
      );
  });

  it('passes the replicated state check of specs (what apply and snapshots use)', () => {
    const spec = parseStackOrThrow(file('{interval: 5s}'), OPTIONS).services.web!;
    expect(checkServiceSpec(spec, 'spec').imageUpdate).toEqual({ intervalMs: 5_000 });
    expect(() => checkServiceSpec({ ...spec, imageUpdate: { intervalMs: 10 } }, 'spec')).toThrow(
      /spec\.imageUpdate\.intervalMs/,
    );
  });

  it.each([
    [
      '{interval: 1s}',
      /^compose\.yml:5 services\.web\.x-shoal\.image_update\.interval: expected at least 5s, got 1000ms$/,
    ],
    ['{interval: soon}', /x-shoal\.image_update\.interval: expected a duration/],
    ['{intervall: 1m}', /x-shoal\.image_update\.intervall: unsupported key "intervall"; did you mean "interval"\?/],
    ['1m', /x-shoal\.image_update: expected a mapping/],
  ])('refuses %s with the line and path', (update, message) => {
    const result = parseStack(file(update), OPTIONS);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map(formatStackError).join('\n')).toMatch(message);
  });

  it('refuses it on a job, whose tasks have no rollout', () => {
    const result = parseStack(file('{interval: 1m}', '      kind: job\n'), OPTIONS);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.errors.map(formatStackError).join('\n')).toMatch(
        /x-shoal\.image_update: only replicated and global services are updated automatically, this is a job/,
      );
  });
});
