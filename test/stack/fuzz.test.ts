import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { formatStackError, hashStack, parseStack } from '../../src/stack/index.js';

// Seeded PRNG (mulberry32) so a failure is replayable from the printed seed.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SOURCES = ['examples/web/compose.yml', 'examples/batch/compose.yml'].map((f) =>
  readFileSync(join(root, f), 'utf8'),
);
const NOISE = [
  ':',
  '-',
  '[',
  ']',
  '{',
  '}',
  "'",
  '"',
  '&a',
  '*a',
  '$',
  '${X',
  ' ',
  '\n',
  '<<: ',
  '0',
  'three',
  '%',
  '#',
  '\t',
];

function mutate(text: string, rnd: () => number): string {
  const lines = text.split('\n');
  const pick = () => Math.floor(rnd() * lines.length);
  for (let n = 1 + Math.floor(rnd() * 3); n > 0; n--) {
    const op = Math.floor(rnd() * 5);
    const i = pick();
    if (op === 0) lines.splice(i, 1);
    else if (op === 1) lines.splice(i, 0, lines[pick()] ?? '');
    else if (op === 2) lines[i] = ' ' + (lines[i] ?? '');
    else if (op === 3) {
      const l = lines[i] ?? '';
      const at = Math.floor(rnd() * (l.length + 1));
      lines[i] = l.slice(0, at) + NOISE[Math.floor(rnd() * NOISE.length)] + l.slice(at + 1);
    } else {
      const j = pick();
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
    }
  }
  return lines.join('\n');
}

describe('parseStack() on mutated files', () => {
  it('never throws, and every error is located and readable (200 seeded mutations)', () => {
    let valid = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = prng(seed);
      const text = mutate(SOURCES[seed % SOURCES.length]!, rnd);
      let res: ReturnType<typeof parseStack>;
      try {
        res = parseStack(text, { file: 'compose.yml', name: 'fuzz', env: { X: '1' } });
      } catch (e) {
        throw new Error(`seed ${seed}: parseStack threw ${(e as Error).stack}\n--- input ---\n${text}`);
      }
      if (res.ok) {
        valid++;
        // Parsing is deterministic: the same text gives the same hash.
        const again = parseStack(text, { file: 'compose.yml', name: 'fuzz', env: { X: '1' } });
        expect(again.ok && hashStack(again.spec)).toBe(hashStack(res.spec));
        continue;
      }
      expect(res.errors.length).toBeGreaterThan(0);
      const lineCount = text.split('\n').length;
      for (const e of res.errors) {
        const where = `seed ${seed}: ${formatStackError(e)}`;
        expect({
          where,
          ok:
            e.line >= 0 && e.line <= lineCount + 1 && e.message.length > 0 && !/undefined|NaN|\[object/.test(e.message),
        }).toEqual({ where, ok: true });
      }
    }
    // The mutations must leave some files valid, or this test checks only the error path.
    expect(valid).toBeGreaterThan(5);
  });
});
