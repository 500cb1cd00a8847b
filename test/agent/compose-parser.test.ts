import { afterAll, describe, expect, it } from '@jest/globals';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ComposeParser, ComposeParseTimeoutError } from '../../src/agent/compose-parser.js';
import { WorkloadService } from '../../src/agent/workload-api.js';
import { refusedWorkloadDeps } from './support/refused-workload-deps.js';

/** A Compose file of about `bytes` bytes: services of 40 environment entries each. */
function largeCompose(bytes: number): string {
  const parts = ['name: big\nservices:\n'];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    let s = `  s${i}:\n    image: nginx:1.27\n    environment:\n`;
    for (let j = 0; j < 40; j++) s += `      VAR_${j}: "value-${i}-${j}-abcdefghijklmnopqrstuvwxyz0123456789"\n`;
    parts.push(s);
    size += s.length;
  }
  return parts.join('');
}

const parser = new ComposeParser({ idleMs: 200 });
afterAll(() => parser.stop());

describe('WorkloadService.deployStack() with a large Compose file', () => {
  it('deployStack() parses a 3.5 MB file without holding the event loop Raft needs', async () => {
    // A refused file never reaches the store: every part of it throws if used.
    const service = new WorkloadService({ ...refusedWorkloadDeps(), parser });
    const compose = largeCompose(3.5e6);
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const refusal = service.deployStack({ name: 'big', compose, file: 'compose.yml', env: {} });
    await expect(refusal).rejects.toThrow(
      /^stack big: 1 error\(s\), nothing deployed:\ncompose\.yml:2 services: a stack holds at most 1000 services/,
    );
    delay.disable();
    // The old synchronous parse held the loop for seconds; Raft's election timeout is far above 200 ms.
    expect(delay.max / 1e6).toBeLessThan(200);
  });
});

describe('ComposeParser', () => {
  it('parse() stops a parse that runs past its time bound, and the next parse gets a new worker', async () => {
    const strict = new ComposeParser({ timeoutMs: 50 });
    try {
      const slow = strict.parse({ compose: largeCompose(3.5e6), file: 'compose.yml', name: 'big' });
      await expect(slow).rejects.toThrow(ComposeParseTimeoutError);
      await expect(slow).rejects.toThrow(/^Cannot parse compose\.yml as it took longer than 0\.05 s/);
      expect(strict.running).toBe(false);
    } finally {
      await strict.stop();
    }
    const ok = await parser.parse({
      compose: 'services:\n  web:\n    image: nginx\n',
      file: 'compose.yml',
      name: 'web',
    });
    expect(ok.ok).toBe(true);
  });

  it('parse() stops the worker once idle, so its memory goes back', async () => {
    await parser.parse({ compose: 'services:\n  web:\n    image: nginx\n', file: 'compose.yml', name: 'web' });
    expect(parser.running).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(parser.running).toBe(false);
  });

  it('parse() reads env files from the request, like the agent did on its main thread', async () => {
    const compose = 'services:\n  web:\n    image: nginx\n    env_file: web.env\n';
    const r = await parser.parse({ compose, file: 'app/compose.yml', name: 'web', files: { 'web.env': 'A=1\n' } });
    expect(r.ok && r.spec.services.web!.env).toEqual({ A: '1' });
  });
});
