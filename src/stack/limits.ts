/**
 * How big a stack file may be. Each bound is checked while the file is read, as early as it can
 * be, and reported with the file and line of the value that crosses it, so a file the cluster
 * would refuse never costs the agent more than reading it once.
 *
 * The per-field bounds are the ones the cluster state enforces on a `stack.deploy` command
 * (`src/state/workload-checks.ts`: `strings`, `stringMap`); `test/stack/limits.test.ts` checks
 * that a spec at these bounds passes that validation, so the two cannot drift apart unnoticed.
 *
 * @module
 */
export { MAX_STACK_SERVICES } from './spec.js';

/**
 * Largest Compose file, in UTF-8 bytes: the admin API's body limit for a stack deploy (4 MiB).
 * A larger file is refused before the YAML is looked at.
 */
export const MAX_STACK_FILE_BYTES = 4 * 1024 * 1024;

/**
 * Most YAML values (keys, scalars and aliases, as written) in a file, counted while it is
 * tokenized, before any tree is built.
 */
export const MAX_YAML_TOKENS = 400_000;

/** Deepest nesting of mappings and lists, as written or after expanding aliases. */
export const MAX_YAML_DEPTH = 64;

/** Most values after expanding aliases and merge keys (a "billion laughs" file stops here). */
export const MAX_YAML_NODES = 200_000;

/** Most entries of one mapping-like field (`environment`, `labels`, `sysctls`, `driver_opts`…). */
export const MAX_MAP_ENTRIES = 10_000;

/** Most items of one list field (`command`, `dns`, `cap_add`, `ports`, `volumes`…). */
export const MAX_LIST_ITEMS = 10_000;
