import { describe, expect, it } from '@jest/globals';
import { MAX_STACK_SERVICES } from '../../src/stack/index.js';
import { parseErrors } from './helpers.js';

describe('parseStack() limits', () => {
  it('parseStack() refuses more services than a stack may hold, naming the file and line', () => {
    const services = Array.from({ length: MAX_STACK_SERVICES + 1 }, (_, i) => `  s${i}:\n    image: img\n`).join('');
    expect(parseErrors(`name: big\nservices:\n${services}`)).toEqual([
      `compose.yml:2 services: a stack holds at most 1000 services, got 1001: split the file into several stacks`,
    ]);
  });
});
