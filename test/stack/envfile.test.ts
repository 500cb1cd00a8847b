import { describe, expect, it } from '@jest/globals';
import { parseEnvFile } from '../../src/stack/index.js';

describe('parseEnvFile()', () => {
  it.each([
    ['A=1', { A: '1' }],
    ['export A=1', { A: '1' }],
    ['# comment\n\nA=1\n', { A: '1' }],
    ['A=x # trailing comment', { A: 'x' }],
    ['A=x#not-a-comment', { A: 'x#not-a-comment' }],
    ["A='literal ${TAG} \\n'", { A: 'literal ${TAG} \\n' }],
    ['A="tag ${TAG}\\nnext \\"q\\""', { A: 'tag v1\nnext "q"' }],
    ['A="line one\nline two"', { A: 'line one\nline two' }],
    ['A=${TAG:-x}-${MISSING:-y}', { A: 'v1-y' }],
    ['TAG', { TAG: 'v1' }],
    ['NOT_SET', {}],
    ['A=', { A: '' }],
    ['A=1\r\nB=2\r\n', { A: '1', B: '2' }],
  ])('parseEnvFile(%p) reads %p', (text, vars) => {
    expect(parseEnvFile(text, { TAG: 'v1' })).toEqual({ vars, problems: [] });
  });

  it.each([
    ['1BAD=x', [{ line: 1, message: 'invalid variable name "1BAD"' }]],
    ['OK=1\nA="open', [{ line: 2, message: 'unterminated double quote for A' }]],
    ['A=${NEED:?missing}', [{ line: 1, message: 'required variable NEED is not set: missing' }]],
  ])('parseEnvFile(%p) reports %p', (text, problems) => {
    expect(parseEnvFile(text, {}).problems).toEqual(problems);
  });
});
