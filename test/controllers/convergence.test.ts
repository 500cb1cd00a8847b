/**
 * Property test: a seeded storm of scale changes, redeploys, drains, crash loops, partitions and
 * leader changes, with the real controllers in a loop `state → reconcile → apply → runtimes`.
 *
 * During the storm, for stop-first services, no slot ever has containers on two reachable nodes
 * after a runtime step (app_web does not rebalance: a rebalancing move is start-first by design) (a partitioned node may keep an orphaned container: it cannot hear the
 * state, and stops it in its first step after the partition heals — the fencing rule). After the
 * storm, with every node back and nothing crashing, the cluster converges to exactly `replicas`
 * live, running, current tasks per replicated service, one per node for global ones, and one
 * container per live task.
 */
import { isLive } from '../../src/controllers/index.js';
import { seededRandom } from '../../src/scheduler/order.js';
import { pass } from './support/loop.js';
import { World, spec, type SpecOptions } from './support/world.js';

const NODES = 5;
const STORM = 150;
const CALM = 120;

function simulate(seed: number): { world: World; trace: string[] } {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const w = new World();
  const trace: string[] = [];
  const nodes = Array.from({ length: NODES }, (_, i) => w.addNode(i + 1));
  // The storm crashes new versions on purpose: with the default failure_action (pause) their
  // rollouts would rightly stop for good, so these go on despite failures.
  const options: Record<string, SpecOptions> = {
    app_web: {
      rebalance: false,
      replicas: 3,
      restart: { delayMs: 1000 },
      update: { parallelism: 1, order: 'stop-first', failureAction: 'continue' },
    },
    app_api: {
      replicas: 2,
      restart: { delayMs: 1000 },
      update: { parallelism: 2, order: 'start-first', failureAction: 'continue' },
    },
    app_agent: { kind: 'global', restart: { delayMs: 1000 }, update: { failureAction: 'continue' } },
  };
  for (const [id, o] of Object.entries(options)) w.deploy(id.slice(4), spec(o));
  const partitioned = new Set<string>();
  const heartbeats = new Map<string, number>();
  let leaderSince = w.now;
  let images = 0;

  const round = (storm: boolean): void => {
    if (storm) {
      const r = random();
      const node = pick(nodes);
      const service = pick(Object.keys(options));
      if (r < 0.05 && partitioned.size < NODES - 2) partitioned.add(node);
      else if (r < 0.12) partitioned.delete(node);
      else if (r < 0.15)
        w.setNode(node, { availability: w.nodes[node]!.availability === 'active' ? 'drain' : 'active' });
      else if (r < 0.2 && options[service]!.kind !== 'global') w.scale(service, Math.floor(random() * 7));
      else if (r < 0.23) w.deploy(service.slice(4), spec({ ...options[service], image: `img:${++images}` }));
      else if (r < 0.26) {
        if (w.crashing.has(service)) w.crashing.delete(service);
        else w.crashing.add(service);
      } else if (r < 0.28) {
        leaderSince = w.now; // a new leader: it knows no heartbeats yet
        heartbeats.clear();
      }
      if (r < 0.28) trace.push(`${w.now}: r=${r.toFixed(3)} node=${node} service=${service}`);
    }
    for (const n of nodes) if (!partitioned.has(n)) heartbeats.set(n, w.now);
    pass(w, { health: { lastHeartbeat: heartbeats, leaderSince, graceMs: 5000 } });
    w.runtimes(partitioned);
    w.tick(1000);
  };

  for (let i = 0; i < STORM; i++) {
    round(true);
    // Fencing: a stop-first slot never runs on two reachable nodes at once.
    const bySlot = new Map<number, string[]>();
    for (const [node, t] of w.containersOf('app_web')) {
      if (!partitioned.has(node)) bySlot.set(t.slot, [...(bySlot.get(t.slot) ?? []), t.id]);
    }
    for (const [slot, ids] of bySlot) {
      if (ids.length > 1)
        throw new Error(`seed ${seed}: slot ${slot} runs ${ids.join(', ')} at ${w.now}\n${trace.join('\n')}`);
    }
  }
  partitioned.clear();
  w.crashing.clear();
  for (const n of nodes) w.setNode(n, { availability: 'active' });
  for (let i = 0; i < CALM; i++) round(false);
  return { world: w, trace };
}

describe('reconcileWorkloads() convergence', () => {
  it.each(Array.from({ length: 12 }, (_, i) => [i * 7919 + 1]))(
    'seed %i converges with no slot running twice',
    (seed) => {
      const { world: w } = simulate(seed);
      expect(w.violations).toEqual([]);
      for (const service of Object.values(w.services)) {
        const live = w.tasksOf(service.id, isLive);
        expect(live.every((t) => t.state === 'running' && t.serviceVersion === service.version)).toBe(true);
        if (service.spec.kind === 'global') {
          expect(live.map((t) => t.nodeId).sort()).toEqual(Object.keys(w.nodes).sort());
        } else {
          expect(live.map((t) => t.slot).sort((a, b) => a - b)).toEqual(
            Array.from({ length: service.replicas }, (_, i) => i + 1),
          );
        }
        // Exactly one container per live task, and none for anything else.
        const containers = w
          .containersOf(service.id)
          .map(([, t]) => t.id)
          .sort();
        expect(containers).toEqual(live.map((t) => t.id).sort());
      }
      // Nothing left to do.
      expect(pass(w).filter((c) => c.type !== 'task.remove')).toEqual([]);
    },
  );
});
