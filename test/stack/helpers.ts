/** Shared helpers for the stack tests. */
import {
  formatStackError,
  parseStack,
  type ParseStackOptions,
  type ServiceSpec,
  type StackSpec,
} from '../../src/stack/index.js';

/** Parses and fails the test with every formatted error if the file is invalid. */
export function parseOk(text: string, options: Partial<ParseStackOptions> = {}): StackSpec {
  const r = parseStack(text, { file: 'compose.yml', name: 'test', ...options });
  if (!r.ok) throw new Error('unexpected errors:\n' + r.errors.map(formatStackError).join('\n'));
  return r.spec;
}

/** Formatted errors of a file that must be invalid. */
export function parseErrors(text: string, options: Partial<ParseStackOptions> = {}): string[] {
  const r = parseStack(text, { file: 'compose.yml', name: 'test', ...options });
  if (r.ok) throw new Error('expected errors, got a valid spec');
  return r.errors.map(formatStackError);
}

/** A one-service stack whose service body is `body` (indented under `services.s`). */
export function service(body: string, options: Partial<ParseStackOptions> = {}): ServiceSpec {
  return parseOk(oneService(body), options).services.s!;
}

/** The YAML of a one-service stack named `s` with `image: img` unless the body sets one. */
export function oneService(body: string, extraTop = ''): string {
  const lines = body
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
  const image = /^image:/m.test(body) ? '' : '    image: img\n';
  return `services:\n  s:\n${image}${lines}\n${extraTop}`;
}
