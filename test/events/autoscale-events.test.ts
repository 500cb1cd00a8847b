import { EventRecorder, EventWindow, type ClusterEvent } from '../../src/events/index.js';
import { ClusterStateMachine } from '../../src/state/index.js';
import { T0, init, register } from '../state/helpers.js';
import { applyAll, applyNext, deployOf, stackSpec, stamp } from '../state/workload-helpers.js';

const SHOP = stackSpec(
  `
services:
  api:
    image: nginx:1.27
    deploy:
      replicas: 2
    x-shoal:
      autoscale: {min: 1, max: 6, target_cpu: 70}
`,
  'shop',
);
const metrics = [{ kind: 'cpu' as const, value: 92.4, target: 70 }];
const autoscale = (from: number, replicas: number) =>
  stamp(
    {
      type: 'service.autoscale',
      serviceId: 'shop_api',
      from,
      replicas,
      reason: 'cpu 92 % of 70 % over 2 tasks → 3',
      metrics,
    },
    T0 + 20,
  );

describe('autoscaler events', () => {
  it('a committed decision is an event with its inputs; a refused one is none', () => {
    const machine = new ClusterStateMachine();
    const window = new EventWindow();
    machine.observeApplied(new EventRecorder({ window, now: () => T0, log: { error: () => undefined } }));
    applyAll(machine, [init(), register(1), deployOf(SHOP, T0 + 10)]);
    const first = window.nextSeq;
    applyNext(machine, autoscale(2, 3));
    applyNext(machine, autoscale(2, 4)); // stale: the service is at 3 now
    const events: ClusterEvent[] = [];
    for (let seq = first; seq < window.nextSeq; seq++) events.push(window.get(seq)!);
    expect(events.filter((e) => e.action === 'autoscaled')).toEqual([
      expect.objectContaining({
        type: 'service',
        name: 'shop_api',
        from: '2',
        to: '3',
        message: 'service shop_api autoscaled from 2 to 3: cpu 92 % of 70 % over 2 tasks → 3',
      }),
    ]);
  });
});
