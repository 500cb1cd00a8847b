/** The node's sampler on a manual clock and a memory driver with synthetic load. */
import { describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { StatsFrame } from '../../src/autoscale/index.js';
import { TaskStatsSampler } from '../../src/agent/task-stats.js';
import type { ObservedContainer } from '../../src/runtime/index.js';
import { ManualClock, MemoryDriver } from '../runtime/memory-driver.js';
import { stackSpec } from '../state/workload-helpers.js';

const SPECS = stackSpec(
  `
services:
  api:
    image: nginx
    x-shoal:
      autoscale: {max: 4, target_cpu: 50, sync_period: 3s}
  plain:
    image: nginx
`,
  'shop',
).services;

function setup() {
  const clock = new ManualClock();
  const driver = new MemoryDriver(clock, { firstLine: null });
  const containers: ObservedContainer[] = [
    { ...driver.container('c-api', 'n1', 'a1', 1, 'running') },
    { ...driver.container('c-plain', 'n1', 'p1', 1, 'running') },
    { ...driver.container('c-api-stopped', 'n1', 'a2', 1, 'exited') },
  ];
  for (const c of containers) driver.containers.set(c.id, c);
  driver.load = () => ({ cpuCores: 0.75, memoryBytes: 5e7 });
  const services = { shop_api: { spec: SPECS.api! }, shop_plain: { spec: SPECS.plain! } };
  const tasks: Record<string, { serviceId: keyof typeof services }> = {
    a1: { serviceId: 'shop_api' },
    a2: { serviceId: 'shop_api' },
    p1: { serviceId: 'shop_plain' },
  };
  const sent: StatsFrame[] = [];
  let leader: string | null = 'leader';
  const sampler = new TaskStatsSampler({
    containers: () => containers,
    liveUsage: (id) => driver.liveUsage(id),
    state: {
      task: (id) => tasks[id],
      service: (id) => (id === 'shop_api' || id === 'shop_plain' ? services[id] : undefined),
    },
    leader: () => leader,
    send: async (_to, frame) => void sent.push(frame),
    clock,
    log: pino({ level: 'silent' }),
  });
  return { clock, driver, sampler, sent, setLeader: (l: string | null) => (leader = l) };
}

describe('TaskStatsSampler', () => {
  it('samples only running tasks of autoscaled services; CPU is the rate between two readings', async () => {
    const { clock, sampler, sent } = setup();
    await sampler.round();
    expect(sent).toEqual([{ v: 1, samples: [{ taskId: 'a1', cpuCores: null, memoryBytes: 5e7 }] }]);
    clock.t += 1_000; // sync 3 s: a sample every 1 s
    await sampler.round();
    expect(sent[1]!.samples).toEqual([{ taskId: 'a1', cpuCores: 0.75, memoryBytes: 5e7 }]);
    expect(sampler.cost.readings).toBe(2);
  });

  it('samples a task no more often than its interval, and drops a round while no leader is known', async () => {
    const { clock, sampler, sent, setLeader } = setup();
    await sampler.round();
    clock.t += 200;
    await sampler.round(); // not due yet
    expect(sent).toHaveLength(1);
    setLeader(null);
    clock.t += 1_000;
    await sampler.round();
    expect(sent).toHaveLength(1);
  });

  it('scrapes the task metric from its address and sends the sum of its series', async () => {
    const server = createServer((request, response) => {
      if (request.url !== '/metrics') return void response.writeHead(404).end();
      response
        .writeHead(200, { 'content-type': 'text/plain' })
        .end('# TYPE q gauge\nq{a="1"} 3\nq{a="2"} 4\nq_other 9\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const spec = stackSpec(
        `
services:
  api:
    image: nginx
    x-shoal:
      autoscale: {max: 4, metric: {port: ${port}, name: q, value: 5}}
`,
        'shop',
      ).services.api!;
      const clock = new ManualClock();
      const containers: ObservedContainer[] = [
        { ...new MemoryDriver(clock).container('c1', 'n1', 'a1', 1, 'running'), address: '127.0.0.1' },
        { ...new MemoryDriver(clock).container('c2', 'n1', 'a2', 1, 'running'), address: null },
      ];
      const sent: StatsFrame[] = [];
      const sampler = new TaskStatsSampler({
        containers: () => containers,
        liveUsage: async () => null, // the driver measures nothing: the metric alone goes
        state: { task: () => ({ serviceId: 'shop_api' }), service: () => ({ spec }) },
        leader: () => 'leader',
        send: async (_to, frame) => void sent.push(frame),
        clock,
        log: pino({ level: 'silent' }),
      });
      await sampler.round();
      // c2 has no address: not scraped, nothing to send for it
      expect(sent).toEqual([{ v: 1, samples: [{ taskId: 'a1', cpuCores: null, memoryBytes: null, metric: 7 }] }]);
    } finally {
      server.close();
    }
  });
});
