/**
 * The CLI's version. A constant rather than a read of package.json, so the CLI starts without
 * touching the file system and works the same inside a single executable.
 * @module
 */

/** Keep in step with package.json's `version`. */
export const SHOAL_VERSION = '0.1.0';
