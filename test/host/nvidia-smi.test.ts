import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseNvidiaSmiCsv } from '../../src/host/index.js';

const FIXTURES = path.resolve(process.cwd(), 'test/fixtures/nvidia-smi-h100');
const MIB = 1024 * 1024;
const H100 = {
  index: 0,
  uuid: 'GPU-262bb9d6-a6ea-957c-678b-4ffdfd652f1c',
  name: 'NVIDIA H100 80GB HBM3',
  memoryBytes: 81559 * MIB,
};
/** The real capture, cut to the four columns shoal queries. */
const realLine = readFileSync(path.join(FIXTURES, 'nvidia-smi-query-gpu.csv'), 'utf8')
  .trim()
  .split(',')
  .slice(0, 4)
  .join(',');
const realWithHeader = readFileSync(path.join(FIXTURES, 'nvidia-smi-query-gpu-header.csv'), 'utf8');

describe('parseNvidiaSmiCsv()', () => {
  it.each([
    ['the real H100 output', `${realLine}\n`, [H100]],
    ['the real output with a header and MiB units (no nounits)', realWithHeader, [H100]],
    ['CRLF line ends and blank lines', `\r\n${realLine}\r\n\r\n`, [H100]],
    ['empty output (no GPUs)', '', []],
    [
      'a name with a comma',
      '1, GPU-abc, Tesla, Rev B, 100\n',
      [{ index: 1, uuid: 'GPU-abc', name: 'Tesla, Rev B', memoryBytes: 100 * MIB }],
    ],
    [
      'several GPUs out of order',
      '1, GPU-b, A100, 40960\n0, GPU-a, A100, 40960\n',
      [
        { index: 0, uuid: 'GPU-a', name: 'A100', memoryBytes: 40960 * MIB },
        { index: 1, uuid: 'GPU-b', name: 'A100', memoryBytes: 40960 * MIB },
      ],
    ],
  ])('reads %s', (_what, text, gpus) => {
    expect(parseNvidiaSmiCsv(text)).toEqual({ gpus, warnings: [] });
  });

  it.each([
    [
      'a driver error message',
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
      /expected 4 comma-separated fields, got 1/,
    ],
    ['memory not available', '0, GPU-a, A100, [N/A]', /memory.total "\[N\/A\]" is not a number of MiB/],
    ['a non-numeric index', 'x, GPU-a, A100, 100', /index "x" is not a number/],
    ['a bad uuid', '0, 1234, A100, 100', /uuid "1234" does not look like GPU-/],
    ['an empty name', '0, GPU-a, , 100', /name is empty/],
  ])('skips %s with a warning', (_what, text, warning) => {
    const result = parseNvidiaSmiCsv(text);
    expect(result.gpus).toEqual([]);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatch(warning);
  });

  it('keeps the good lines next to a bad one', () => {
    const result = parseNvidiaSmiCsv(`${realLine}\ngarbage\n`);
    expect(result.gpus).toEqual([H100]);
    expect(result.warnings).toEqual([expect.stringMatching(/^nvidia-smi line 2: /)]);
  });

  it('drops a GPU listed twice', () => {
    const result = parseNvidiaSmiCsv(`${realLine}\n${realLine}\n`);
    expect(result.gpus).toEqual([H100]);
    expect(result.warnings[0]).toMatch(/listed twice/);
  });

  it('bounds the work and the message size on huge garbage', () => {
    const result = parseNvidiaSmiCsv(`${'x'.repeat(10_000)}\n`.repeat(5000));
    expect(result.gpus).toEqual([]);
    expect(result.warnings.length).toBeLessThanOrEqual(1024);
    expect(result.warnings[0]!.length).toBeLessThan(200);
  });
});
