/**
 * Autoscaling with the real process runtime: one in-process agent whose tasks are host processes
 * that burn a CPU while a flag file exists (then sleep). Their CPU is read from their cgroups by
 * the production driver stack (`hostDrivers('process')`), so this checks the whole measuring path.
 * Skipped where the host gives no cgroups.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hostDrivers } from '../../src/agent/runtime-drivers.js';
import { CgroupManager } from '../../src/runtime/process/index.js';
import { InProcessCluster } from './support/in-process-cluster.js';

const cgroups = CgroupManager.detect().version !== null;

describe('autoscaling a CPU-burning process service', () => {
  let cluster: InProcessCluster;
  const flagDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shoal-burn-'));
  const flag = path.join(flagDir, 'burn');

  beforeAll(async () => {
    cluster = await InProcessCluster.start({ nodes: 1, drivers: (_name, dataDir) => hostDrivers('process', dataDir) });
  }, 30_000);
  afterAll(async () => {
    fs.rmSync(flag, { force: true });
    const api = cluster?.agents[0]?.agent.api;
    if (api) {
      await api.removeStack('burn').catch(() => undefined);
      await cluster.until('the burners to stop', () =>
        cluster.agents[0]!.agent.store.state.tasksOfService('burn_cpu').every((t) => t.state !== 'running'),
      );
    }
    await cluster?.stop();
    fs.rmSync(flagDir, { recursive: true, force: true });
  }, 30_000);

  (cgroups ? it : it.skip)(
    'scales up while its task burns a core, and down once it stops',
    async () => {
      fs.writeFileSync(flag, '');
      const compose = `
services:
  cpu:
    command: ["/bin/sh", "-c", "while [ -e ${flag} ]; do :; done; exec sleep 600"]
    deploy:
      resources:
        reservations:
          cpus: '0.5'
    x-shoal:
      runtime: process
      autoscale: {min: 1, max: 2, target_cpu: 50, sync_period: 1s, scale_down_window: 3s}
`;
      const agent = cluster.agents[0]!.agent;
      await agent.api.deployStack({ name: 'burn', compose, file: 'compose.yml', env: {} });
      const service = () => agent.store.state.service('burn_cpu');
      // one burning task is about 200 % of its 0.5-core reservation: ceil(4) → max 2
      await cluster.until('the service to scale up', () => service()?.replicas === 2, 30_000);
      expect(service()!.autoscale!.reason).toMatch(/^cpu \d+ % of 50 % over 1 task → [2-9]/);
      fs.rmSync(flag);
      await cluster.until('the service to scale down', () => service()?.replicas === 1, 30_000);
      expect(service()!.autoscale!.reason).toMatch(/cpu \d+ % of 50 % over 2 tasks → 1/);
    },
    90_000,
  );
});
