/** Compiles the web UI into the files the admin API serves at /ui (see ui-assets.mjs). */
export function buildUiAssets(): Promise<Record<string, { type: string; body: string }>>;
