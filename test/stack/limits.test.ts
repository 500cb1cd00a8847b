import { describe, expect, it } from '@jest/globals';
import {
  MAX_LIST_ITEMS,
  MAX_MAP_ENTRIES,
  MAX_STACK_FILE_BYTES,
  MAX_STACK_SERVICES,
  MAX_YAML_DEPTH,
  MAX_YAML_TOKENS,
} from '../../src/stack/index.js';
import { checkServiceSpec } from '../../src/state/workload-checks.js';
import { parseErrors, parseOk } from './helpers.js';

describe('parseStack() limits', () => {
  it('parseStack() refuses more services than a stack may hold, naming the file and line', () => {
    const services = Array.from({ length: MAX_STACK_SERVICES + 1 }, (_, i) => `  s${i}:\n    image: img\n`).join('');
    expect(parseErrors(`name: big\nservices:\n${services}`)).toEqual([
      `compose.yml:2 services: a stack holds at most 1000 services, got 1001: split the file into several stacks`,
    ]);
  });
});

/** A one-service file whose `environment` holds `n` entries, in mapping or list form. */
function manyEnv(n: number, form: 'map' | 'list' = 'map'): string {
  const lines = Array.from({ length: n }, (_, i) => (form === 'map' ? `      V${i}: x\n` : `      - V${i}=x\n`));
  return `services:\n  s:\n    image: img\n    environment:\n${lines.join('')}`;
}

/** Runs `f` and returns its result with the time it took, in ms. */
function timed<T>(f: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = f();
  return { value, ms: performance.now() - t0 };
}

describe('parseStack() field limits (the cluster state refuses more)', () => {
  it.each(['map', 'list'] as const)(
    'parseStack() refuses 20000 env entries (%s form) with file and line, quickly',
    (form) => {
      const { value, ms } = timed(() => parseErrors(manyEnv(20_000, form)));
      expect(value).toEqual([
        'compose.yml:5 services.s.environment: expected at most 10000 entries, got 20000: the cluster refuses larger fields',
      ]);
      // Duplicate-key checks were quadratic: 20,000 keys took 11 s.
      expect(ms).toBeLessThan(3000);
    },
  );

  it('parseStack() accepts exactly MAX_MAP_ENTRIES env entries, and the state accepts the spec', () => {
    const spec = parseOk(manyEnv(MAX_MAP_ENTRIES)).services.s!;
    expect(Object.keys(spec.env)).toHaveLength(MAX_MAP_ENTRIES);
    expect(() => checkServiceSpec(spec, 'services[0].spec')).not.toThrow();
    const over = parseOk(manyEnv(MAX_MAP_ENTRIES), {}).services.s!;
    expect(() => checkServiceSpec({ ...over, env: { ...over.env, extra: 'x' } }, 'services[0].spec')).toThrow(
      /services\[0\]\.spec\.env: expected at most 10000 entries/,
    );
  });

  it('parseStack() refuses a list field past MAX_LIST_ITEMS with file and line', () => {
    const dns = Array.from({ length: MAX_LIST_ITEMS + 1 }, (_, i) => `      - 10.0.${i >> 8}.${i & 255}\n`).join('');
    expect(parseErrors(`services:\n  s:\n    image: img\n    dns:\n${dns}`)).toEqual([
      'compose.yml:5 services.s.dns: expected at most 10000 entries, got 10001: the cluster refuses larger fields',
    ]);
  });
});

describe('parseStack() YAML limits', () => {
  it('parseStack() refuses a file larger than MAX_STACK_FILE_BYTES before reading it', () => {
    const text = `services:\n  s:\n    image: img\n    x-pad: "${'é'.repeat(MAX_STACK_FILE_BYTES / 2)}"\n`;
    const { value, ms } = timed(() => parseErrors(text));
    expect(value).toEqual(['compose.yml: the file is 4.0 MiB, at most 4.0 MiB: split it into several stacks']);
    expect(ms).toBeLessThan(200);
  });

  it('parseStack() refuses brackets nested 100000 deep with file and line, without a stack overflow', () => {
    const text = `name: deep\nservices:\n  s:\n    image: img\n    x-deep: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
    const { value, ms } = timed(() => parseErrors(text));
    expect(value).toEqual([
      `compose.yml:5: mappings and lists are nested more than ${MAX_YAML_DEPTH} levels deep here: flatten the file`,
    ]);
    expect(ms).toBeLessThan(500);
  });

  it('parseStack() refuses a file of more than MAX_YAML_TOKENS values while tokenizing it', () => {
    const text = `services:\n  s:\n    image: img\n    x-many: [${'1,'.repeat(MAX_YAML_TOKENS)}1]\n`;
    const { value, ms } = timed(() => parseErrors(text));
    expect(value).toEqual([
      `compose.yml:4: the file holds more than ${MAX_YAML_TOKENS} YAML values: split it into several stacks`,
    ]);
    expect(ms).toBeLessThan(8000);
  });

  it('parseStack() refuses an alias bomb with file and line, quickly', () => {
    const anchors = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      anchors.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${prev}`).join(', ')}]`,
      );
    }
    const text = `x-bomb:\n${anchors.map((l) => `  ${l}\n`).join('')}services:\n  s:\n    image: img\n    x-boom: *j\n`;
    const { value, ms } = timed(() => parseErrors(text));
    expect(value).toEqual([
      expect.stringMatching(/^compose\.yml:\d+: document too large or too deeply nested after expanding aliases$/),
    ]);
    expect(ms).toBeLessThan(1000);
  });
});
