/**
 * Loads the agent module. In the single executable it is an embedded asset (SEA main scripts
 * can only require built-ins, so it is compiled here); in a bundle it is build/agent.cjs (the
 * bundler rewrites the import below); from source it is the TypeScript module.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { compileFunction } from 'node:vm';

type AgentModule = typeof import('./agent/run.js');

export async function loadAgentModule(): Promise<AgentModule> {
  const sea = await import('node:sea').catch(() => null);
  if (sea?.isSea()) {
    const source = sea.getAsset('agent.cjs', 'utf8');
    const module = { exports: {} as AgentModule };
    const run = compileFunction(source, ['exports', 'require', 'module', '__filename', '__dirname'], {
      filename: 'shoal-agent.cjs',
    });
    run(module.exports, createRequire(process.execPath), module, process.execPath, dirname(process.execPath));
    return module.exports;
  }
  return import('./agent/run.js');
}
