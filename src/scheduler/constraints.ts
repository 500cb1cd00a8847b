/**
 * Docker Swarm placement constraints: `key==value` and `key!=value`, all of which must hold.
 *
 * Keys: `node.id`, `node.hostname`, `node.role`, `node.platform.os`, `node.platform.arch`,
 * `node.labels.<name>`, `engine.labels.<name>`. As in swarmkit, fixed keys are case-insensitive,
 * label names are case-sensitive, values compare case-insensitively, and a missing label reads
 * as the empty string (so `node.labels.zone!=eu` holds on a node without a zone label).
 * Architectures compare by Docker's normalized names (`x86_64` is `amd64`, `aarch64` is `arm64`).
 * Unlike swarmkit, an unknown key is a parse error rather than a constraint that never holds.
 */
import { normalizeArch } from '../stack/platform.js';
import { ConstraintSyntaxError } from './errors.js';
import type { NodeView } from './types.js';

/** Which attribute of a node a constraint or preference reads. */
export type NodeAttribute =
  | { readonly kind: 'id' | 'hostname' | 'role' | 'os' | 'arch' }
  | { readonly kind: 'label' | 'engineLabel'; readonly name: string };

/** A parsed constraint. */
export interface Constraint {
  /** The expression as written, trimmed (used in explanations). */
  readonly text: string;
  readonly key: string;
  readonly attribute: NodeAttribute;
  readonly operator: '==' | '!=';
  readonly value: string;
}

const FIXED_KEYS: Record<string, NodeAttribute['kind']> = {
  'node.id': 'id',
  'node.hostname': 'hostname',
  'node.role': 'role',
  'node.platform.os': 'os',
  'node.platform.arch': 'arch',
};
const KEY_HELP =
  'expected node.id, node.hostname, node.role, node.platform.os, node.platform.arch, node.labels.<name> or engine.labels.<name>';
// swarmkit's patterns: keys are dotted identifiers, values exclude anything that looks like an operator.
const KEY_PATTERN = /^[a-z_][a-z0-9\-_.]*$/i;
const VALUE_PATTERN = /^[a-z0-9:\-_\s.*()?+[\]\\^$|/]+$/i;

/**
 * Parse an attribute key such as `node.labels.zone` (constraint left-hand side, preference target).
 * @throws {ConstraintSyntaxError} naming the unknown key and the accepted ones.
 * @example parseAttribute('node.labels.zone') // { kind: 'label', name: 'zone' }
 */
export function parseAttribute(key: string, expression: string = key): NodeAttribute {
  if (key === '') throw new ConstraintSyntaxError(expression, `the key is empty; ${KEY_HELP}`);
  if (!KEY_PATTERN.test(key)) {
    throw new ConstraintSyntaxError(
      expression,
      `key ${JSON.stringify(key)} contains characters other than letters, digits, "-", "_" and "."`,
    );
  }
  const fixed = FIXED_KEYS[key.toLowerCase()];
  if (fixed !== undefined) return { kind: fixed } as NodeAttribute;
  for (const [prefix, kind] of [
    ['node.labels.', 'label'],
    ['engine.labels.', 'engineLabel'],
  ] as const) {
    if (key.toLowerCase().startsWith(prefix)) {
      const name = key.slice(prefix.length);
      if (name === '') throw new ConstraintSyntaxError(expression, `the label name after "${prefix}" is empty`);
      return { kind, name };
    }
  }
  throw new ConstraintSyntaxError(expression, `unknown key ${JSON.stringify(key)}; ${KEY_HELP}`);
}

/**
 * Parse one constraint expression.
 * @throws {ConstraintSyntaxError} saying what is wrong: no operator, empty or unknown key, bad value.
 * @example parseConstraint('node.labels.zone == eu') // { key: 'node.labels.zone', operator: '==', value: 'eu', ... }
 */
export function parseConstraint(expression: string): Constraint {
  const text = expression.trim();
  // `!=` first: `a!=b` also contains no `==`, but `a==b` never contains `!=` unless the value does.
  const eq = text.indexOf('==');
  const ne = text.indexOf('!=');
  let at: number;
  let operator: '==' | '!=';
  if (eq < 0 && ne < 0) {
    const hint = /[^=!<>]=[^=]/.test(text)
      ? ' (did you mean "=="?)'
      : /[<>]/.test(text)
        ? ' (only == and != are supported)'
        : '';
    throw new ConstraintSyntaxError(expression, `expected one operator from ==, !=${hint}, as in node.labels.zone==eu`);
  }
  if (ne >= 0 && (eq < 0 || ne < eq)) {
    at = ne;
    operator = '!=';
  } else {
    at = eq;
    operator = '==';
  }
  const key = text.slice(0, at).trim();
  const value = text.slice(at + 2).trim();
  const attribute = parseAttribute(key, expression);
  if (value === '') throw new ConstraintSyntaxError(expression, `the value after "${operator}" is empty`);
  if (!VALUE_PATTERN.test(value)) {
    const bad = [...value].find((c) => !VALUE_PATTERN.test(c)) ?? '';
    throw new ConstraintSyntaxError(
      expression,
      `value ${JSON.stringify(value)} contains ${JSON.stringify(bad)}, which is not allowed (one operator per constraint)`,
    );
  }
  return { text, key, attribute, operator, value };
}

/** Parse a list of constraints; the first bad one throws. */
export function parseConstraints(expressions: readonly string[]): Constraint[] {
  return expressions.map(parseConstraint);
}

/** The node's value for an attribute; a missing label is the empty string. */
export function readAttribute(node: NodeView, attribute: NodeAttribute): string {
  switch (attribute.kind) {
    case 'id':
      return node.id;
    case 'hostname':
      return node.hostname;
    case 'role':
      return node.role;
    case 'os':
      return node.platform?.os ?? '';
    case 'arch':
      return node.platform?.arch ?? '';
    case 'label':
      return node.labels[attribute.name] ?? '';
    case 'engineLabel':
      return node.engineLabels?.[attribute.name] ?? '';
  }
}

/**
 * Whether a node satisfies one constraint.
 * @example matchConstraint(parseConstraint('node.role==manager'), node)
 */
export function matchConstraint(constraint: Constraint, node: NodeView): boolean {
  if (constraint.attribute.kind === 'arch') {
    // Architectures compare by Docker's normalized name: x86_64 is amd64, aarch64 is arm64.
    const equal = normalizeArch(readAttribute(node, constraint.attribute)) === normalizeArch(constraint.value);
    return constraint.operator === '==' ? equal : !equal;
  }
  const actual = readAttribute(node, constraint.attribute);
  // Exact match first: lowercasing allocates, and most values are written as the nodes report them.
  const equal =
    actual === constraint.value ||
    (actual.length === constraint.value.length && actual.toLowerCase() === constraint.value.toLowerCase());
  return constraint.operator === '==' ? equal : !equal;
}

/** The first constraint the node does not satisfy, or undefined when it satisfies all. */
export function firstUnmet(constraints: readonly Constraint[], node: NodeView): Constraint | undefined {
  for (const c of constraints) if (!matchConstraint(c, node)) return c;
  return undefined;
}
