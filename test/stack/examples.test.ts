import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { formatStackError, parseStack } from '../../src/stack/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const load = (rel: string) => {
  const file = join(root, rel);
  return parseStack(readFileSync(file, 'utf8'), { file });
};

describe('examples/', () => {
  it('web/compose.yml parses cleanly: 3 web replicas and a global agent', () => {
    const r = load('examples/web/compose.yml');
    if (!r.ok) throw new Error(r.errors.map(formatStackError).join('\n'));
    expect(r.warnings).toEqual([]);
    expect(r.spec.name).toBe('web');
    const { web, agent } = r.spec.services;
    expect([web!.kind, web!.deploy.replicas, web!.image]).toEqual(['replicated', 3, 'shoal-test/busybox:latest']);
    expect(web!.command?.at(-1)).toMatch(/httpd -f -p 8080/);
    expect(web!.ports).toEqual([{ target: 8080, published: null, protocol: 'tcp', mode: 'ingress', hostIp: null }]);
    expect(agent!.kind).toBe('global');
    expect(agent!.command).toEqual(['sh', '-c', 'while true; do echo "agent alive on $(hostname)"; sleep 30; done']);
  });

  it('batch/compose.yml parses cleanly: an array job after a job, and a cron service', () => {
    const r = load('examples/batch/compose.yml');
    if (!r.ok) throw new Error(r.errors.map(formatStackError).join('\n'));
    expect(r.warnings).toEqual([]);
    const { prepare, mine, report } = r.spec.services;
    expect(prepare!.kind).toBe('job');
    expect(mine!.job).toMatchObject({
      completions: 100,
      parallelism: 10,
      retries: 3,
      array: { count: 100, maxConcurrent: 10 },
    });
    expect(mine!.job!.dependencies).toEqual([{ type: 'afterok', job: 'prepare' }]);
    expect(report!.kind).toBe('cron');
    expect(report!.cron).toMatchObject({
      schedule: '*/15 * * * *',
      timeZone: 'Europe/Paris',
      concurrencyPolicy: 'forbid',
    });
  });
});
