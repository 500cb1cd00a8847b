import { describe, expect, it } from '@jest/globals';
import { composeFor, PLAN } from '../../bench/rollout-plan.js';
import { parseStack } from '../../src/stack/index.js';

describe('bench:rollout composeFor()', () => {
  it('deploys what the Swarm side is given as flags: replicas, health check, update settings, port', () => {
    const result = parseStack(composeFor(PLAN, 18080), { file: 'compose.yml', name: 'rollout' });
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const web = result.spec.services.web!;
    expect(web.image).toBe(PLAN.imageV1);
    expect(web.deploy.replicas).toBe(10);
    expect(web.stopGracePeriodMs).toBe(PLAN.stopGraceS * 1000);
    expect(web.healthcheck).toMatchObject({
      disabled: false,
      test: ['CMD-SHELL', PLAN.healthcheck.cmd],
      intervalMs: 1_000,
      timeoutMs: 1_000,
      retries: 3,
    });
    expect(web.deploy.updateConfig).toMatchObject({
      parallelism: 2,
      delayMs: 0,
      monitorMs: 5_000,
      order: 'start-first',
      failureAction: 'pause',
    });
    expect(web.ports).toEqual([{ target: 8080, published: 18080, protocol: 'tcp', mode: 'ingress', hostIp: null }]);
  });
});
