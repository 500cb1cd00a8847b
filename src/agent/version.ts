/** The version this build reports (node records, `shoal version`). */
export const SHOAL_VERSION = '0.1.0';
