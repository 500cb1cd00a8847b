/**
 * Stacks from Compose files: parsing, validation, the normalized spec and
 * its canonical hash.
 *
 * @module
 */
export type * from './spec.js';
export { MAX_STACK_SERVICES } from './spec.js';
export {
  MAX_LIST_ITEMS,
  MAX_MAP_ENTRIES,
  MAX_STACK_FILE_BYTES,
  MAX_YAML_DEPTH,
  MAX_YAML_NODES,
  MAX_YAML_TOKENS,
} from './limits.js';
export { describeRefusal, formatStackError, StackValidationError, type StackError } from './errors.js';
export { parseStack, parseStackOrThrow, type ParseStackOptions, type ParseStackResult } from './parse.js';
export { canonicalJson, hashService, hashStack } from './hash.js';
export { interpolate, type InterpolationResult } from './interpolate.js';
export { parseBytes, parseCpus, parseDuration, shellSplit } from './units.js';
export { parsePortShort } from './ports.js';
export { parseConstraint, DEFAULT_RESTART, DEFAULT_UPDATE } from './deploy.js';
export { cronError, parseArray, isTimeZone, ARRAY_LIMITS } from './batch-syntax.js';
export { parseEnvFile } from './envfile.js';
export { DEFAULT_PRIORITY, MAX_PRIORITY, MAX_TIME_LIMIT_MS } from './shoal.js';
