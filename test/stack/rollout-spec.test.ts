/**
 * `x-shoal.update` (issue 15): canaries, auto_promote and the progress deadline, read into the
 * spec's optional `rollout` field (absent when not given, so older specs hash the same).
 */
import { formatStackError, parseStack, parseStackOrThrow } from '../../src/stack/index.js';

const OPTIONS = { file: 'compose.yml', name: 'app' };
const file = (update: string | null) =>
  `services:\n  web:\n    image: nginx\n${update === null ? '' : `    x-shoal:\n      update: ${update}\n`}`;

describe('x-shoal.update', () => {
  it('is read with its defaults', () => {
    const spec = parseStackOrThrow(file('{canary: 2}'), OPTIONS).services.web!;
    expect(spec.rollout).toEqual({ canary: 2, autoPromote: false, progressDeadlineMs: 600_000 });
    const full = parseStackOrThrow(file('{canary: 1, auto_promote: true, progress_deadline: 2m}'), OPTIONS);
    expect(full.services.web!.rollout).toEqual({ canary: 1, autoPromote: true, progressDeadlineMs: 120_000 });
  });

  it('is absent from the spec when not given (so specs from before it hash the same)', () => {
    const spec = parseStackOrThrow(file(null), OPTIONS).services.web!;
    expect('rollout' in spec).toBe(false);
  });

  it.each([
    [
      '{canary: -1}',
      /^compose\.yml:5 services\.web\.x-shoal\.update\.canary: expected an integer between 0 and 1000000, got -1$/,
    ],
    ['{progress_deadline: 10ms}', /x-shoal\.update\.progress_deadline: expected at least 1s, got 10ms/],
    ['{canery: 1}', /x-shoal\.update\.canery: unsupported key "canery"; did you mean "canary"\?/],
  ])('refuses %s with the line and path', (update, message) => {
    const result = parseStack(file(update), OPTIONS);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map(formatStackError).join('\n')).toMatch(message);
  });
});

describe('x-shoal.update.canary on a global service', () => {
  it('is refused with the line and path: canaries run beside the tasks of a replicated service', () => {
    const yaml =
      'services:\n  agent:\n    image: nginx\n    deploy: {mode: global}\n    x-shoal:\n      update: {canary: 1}\n';
    const result = parseStack(yaml, OPTIONS);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.errors.map(formatStackError).join('\n')).toMatch(
        /^compose\.yml:6 services\.agent\.x-shoal\.update\.canary: canaries run beside the old tasks of a replicated service, this is a global service/,
      );
  });

  it('canary: 0 and the other settings are accepted', () => {
    const yaml =
      'services:\n  agent:\n    image: nginx\n    deploy: {mode: global}\n    x-shoal:\n      update: {canary: 0, progress_deadline: 1m}\n';
    expect(parseStackOrThrow(yaml, OPTIONS).services.agent!.rollout).toMatchObject({ canary: 0 });
  });
});
