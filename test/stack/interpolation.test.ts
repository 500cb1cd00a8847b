import { describe, expect, it } from '@jest/globals';
import { interpolate, parseStack } from '../../src/stack/index.js';
import { oneService, parseErrors, service } from './helpers.js';

describe('interpolate()', () => {
  const env = { TAG: '1.2', EMPTY: '', NAME: 'web' };
  it.each([
    ['${TAG}', '1.2'],
    ['$TAG', '1.2'],
    ['img:$TAG-alpine', 'img:1.2-alpine'],
    ['${MISSING:-latest}', 'latest'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY-fallback}', ''],
    ['${MISSING-fallback}', 'fallback'],
    ['${TAG:+set}', 'set'],
    ['${EMPTY:+set}', ''],
    ['${EMPTY+set}', 'set'],
    ['${MISSING:-${NAME}-x}', 'web-x'],
    ['$$HOME and $${TAG}', '$HOME and ${TAG}'],
    ['cost: 5$', 'cost: 5$'],
    ['no vars', 'no vars'],
  ])('interpolate(%p) is %p', (text, expected) => {
    const r = interpolate(text, env);
    expect(r.errors).toEqual([]);
    expect(r.value).toBe(expected);
  });

  it.each([
    ['${DB:?set DB to the database URL}', 'required variable DB is not set: set DB to the database URL'],
    ['${EMPTY:?}', 'required variable EMPTY is empty'],
    ['${TAG', 'unclosed "${" in "${TAG": add "}" or write "$$" for a literal "$"'],
    ['${1BAD}', 'invalid interpolation "${1BAD}": expected a variable name such as ${TAG} or ${TAG:-latest}'],
    ['${TAG/x}', 'invalid interpolation "${TAG/x}": after TAG expected one of :- - :? ? :+ +'],
  ])('interpolate(%p) reports %p', (text, message) => {
    expect(interpolate(text, env).errors).toEqual([message]);
  });

  it('lists unset variables without a default', () => {
    expect(interpolate('${A} $B ${A}', {})).toEqual({ value: '  ', errors: [], unset: ['A', 'B'] });
  });
});

describe('parseStack() interpolation', () => {
  it('substitutes values anywhere in the file, then validates the result', () => {
    const s = service(
      'image: "registry.local/app:${TAG:-latest}"\nports: ["${PORT}:80"]\ndeploy:\n  replicas: ${REPLICAS:-2}\n  resources:\n    limits:\n      memory: ${MEM}',
      {
        env: { PORT: '8081', MEM: '256M' },
      },
    );
    expect(s.image).toBe('registry.local/app:latest');
    expect(s.ports[0]!.published).toBe(8081);
    expect(s.deploy.replicas).toBe(2);
    expect(s.deploy.resources.limits.memoryBytes).toBe(256 * 1024 ** 2);
  });

  it('reports a bad interpolated value at the line of the original text', () => {
    expect(parseErrors(oneService('deploy:\n  replicas: ${REPLICAS}'), { env: { REPLICAS: 'three' } })).toEqual([
      'compose.yml:5 services.s.deploy.replicas: expected an integer >= 0, got "three"',
    ]);
  });

  it('reports a missing required variable with its path and line', () => {
    expect(parseErrors(oneService('environment:\n  DB_URL: ${DB_URL:?needed}'))).toEqual([
      'compose.yml:5 services.s.environment.DB_URL: required variable DB_URL is not set: needed',
    ]);
  });

  it('warns about an unset variable and uses an empty string, as Compose does', () => {
    const r = parseStack(oneService('environment:\n  A: x${UNSET}y'), { file: 'compose.yml', name: 't' });
    expect(r.ok && r.spec.services.s!.env).toEqual({ A: 'xy' });
    expect(r.warnings.map((w) => `${w.line} ${w.path}: ${w.message}`)).toEqual([
      '5 services.s.environment.A: variable UNSET is not set, using an empty string',
    ]);
  });

  it('does not interpolate keys, and $$ escapes a dollar', () => {
    const s = service('command: echo $$HOME\nlabels:\n  ${KEY}: v', { env: { KEY: 'k' } });
    expect(s.command).toEqual(['echo', '$HOME']);
    expect(s.labels).toEqual({ '${KEY}': 'v' });
  });
});
