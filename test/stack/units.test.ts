import { describe, expect, it } from '@jest/globals';
import { parseBytes, parseCpus, parseDuration, shellSplit } from '../../src/stack/index.js';

describe('parseDuration()', () => {
  it.each([
    ['10s', 10_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['1.5h', 5_400_000],
    ['300ms', 300],
    ['2m0s', 120_000],
    ['1d', 86_400_000],
    ['0', 0],
    ['15', 15_000],
    [20, 20_000],
    ['1500us', 2],
    ['1500\u00b5s', 2], // micro sign, as Go's durations accept
    ['1500\u03bcs', 2], // Greek mu
  ] as const)('parseDuration(%p) is %p ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', 'ten seconds', '1x', '10s5', '-5s', 's'])('parseDuration(%p) throws a RangeError', (input) => {
    expect(() => parseDuration(input)).toThrow(RangeError);
  });
});

describe('parseBytes()', () => {
  it.each([
    ['512M', 512 * 1024 ** 2],
    ['512m', 512 * 1024 ** 2],
    ['1g', 1024 ** 3],
    ['2GiB', 2 * 1024 ** 3],
    ['1gb', 1024 ** 3],
    ['1024kb', 1024 * 1024],
    ['100', 100],
    ['1.5k', 1536],
    [4096, 4096],
    ['64b', 64],
  ] as const)('parseBytes(%p) is %p', (input, bytes) => {
    expect(parseBytes(input)).toBe(bytes);
  });

  it.each(['', 'lots', '1x', '-1m', '1 2m', 'ib'])('parseBytes(%p) throws a RangeError', (input) => {
    expect(() => parseBytes(input)).toThrow(RangeError);
  });
});

describe('parseCpus()', () => {
  it.each([
    ['0.5', 500],
    [0.5, 500],
    ['2', 2000],
    [1, 1000],
    ['.25', 250],
    ['0.001', 1],
  ] as const)('parseCpus(%p) is %p millicores', (input, m) => {
    expect(parseCpus(input)).toBe(m);
  });

  it.each(['half', '-1', '', '1,5'])('parseCpus(%p) throws a RangeError', (input) => {
    expect(() => parseCpus(input)).toThrow(RangeError);
  });
});

describe('shellSplit()', () => {
  it.each([
    ['httpd -f -p 8080', ['httpd', '-f', '-p', '8080']],
    [`sh -c 'echo "hi there"'`, ['sh', '-c', 'echo "hi there"']],
    [`echo "a \\"b\\" c"`, ['echo', 'a "b" c']],
    ['a\\ b c', ['a b', 'c']],
    ["''", ['']],
    ['  spaced   out  ', ['spaced', 'out']],
    [`x"y"'z'`, ['xyz']],
    ['', []],
  ] as const)('shellSplit(%p) is %p', (input, words) => {
    expect(shellSplit(input)).toEqual(words);
  });

  it.each([`echo 'oops`, 'echo "oops'])('shellSplit(%p) throws on an unterminated quote', (input) => {
    expect(() => shellSplit(input)).toThrow(/unterminated/);
  });
});
