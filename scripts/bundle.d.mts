/** Bundles build/shoal.cjs (entry and CLI) and build/agent.cjs (the agent). */
export function bundle(outfile?: string): Promise<{ cli: string; agent: string }>;
