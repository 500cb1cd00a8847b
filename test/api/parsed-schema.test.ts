import { describe, expect, it } from '@jest/globals';
import { assertParsed, validateBody, type Schema } from '../../src/api/validate.js';

const BODY = {
  name: { type: 'string', optional: true, maxLength: 8 },
  runtime: { type: 'string', values: ['docker', 'process'] },
  cpus: { type: 'number', optional: true, min: 0 },
  command: { type: 'stringList' },
} as const satisfies Schema;

describe('a validated body typed from its schema', () => {
  it('narrows what the router accepted to the schema’s type (enums, optional fields)', () => {
    const body = validateBody({ runtime: 'process', command: ['true'] }, BODY);
    assertParsed(BODY, body);
    // typed: runtime is the enum, cpus optional, command a string list
    const runtime: 'docker' | 'process' = body.runtime;
    const cpus: number | undefined = body.cpus;
    const first: string | undefined = body.command[0];
    expect({ runtime, cpus, first }).toEqual({ runtime: 'process', cpus: undefined, first: 'true' });
  });

  it('refuses a record that does not match, naming the field (the type is earned)', () => {
    expect(() => assertParsed(BODY, { runtime: 'vm', command: ['true'] })).toThrow(
      /body\.runtime: expected one of docker, process/,
    );
    expect(() => assertParsed(BODY, { runtime: 'docker' })).toThrow(/body\.command: required field is missing/);
  });
});
