import { describe, expect, it } from '@jest/globals';
import { unclosedBrackets } from '../../src/stack/yaml-errors.js';
import { parseErrors } from './helpers.js';

describe('parseStack() YAML syntax errors', () => {
  it.each([
    [
      'an unclosed "[" followed by more keys',
      'services:\n  web:\n    image: nginx\n    ports: [80:80\n    environment:\n      A: 1\n',
      'compose.yml:4: invalid YAML: this "[" is never closed: add "]" where the list ends',
    ],
    [
      'an unclosed "[" at the end of the file',
      'services:\n  web:\n    image: nginx\n    ports: [80:80\n',
      'compose.yml:4: invalid YAML: this "[" is never closed: add "]" where the list ends',
    ],
    [
      'an unclosed "{"',
      'services:\n  web:\n    image: nginx\n    labels: {a: 1\n    x: 1\n',
      'compose.yml:4: invalid YAML: this "{" is never closed: add "}" where the mapping ends',
    ],
  ])('reports %s at the line where it opens', (_, text, expected) => {
    expect(parseErrors(text)).toEqual([expected]);
  });

  it('keeps the position yaml gives for other errors', () => {
    expect(parseErrors('services:\n  web:\n    image: a\n    image: b\n')).toEqual([
      expect.stringMatching(/^compose\.yml:4: invalid YAML: Map keys must be unique/),
    ]);
  });
});

describe('unclosedBrackets()', () => {
  it('unclosedBrackets() finds only the brackets that never close, nested ones included', () => {
    expect(unclosedBrackets('a: [1, 2]\nb: {x: [1, 2}\n')).toEqual([
      { offset: 13, open: '{', close: '}' },
      { offset: 17, open: '[', close: ']' },
    ]);
    expect(unclosedBrackets('a: "[not a bracket"\n')).toEqual([]);
  });
});
