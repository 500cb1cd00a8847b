/**
 * Rebalancing (issue 15 item 5) with the real apply and controllers in virtual time: a node dies,
 * its replicas move to the others, it comes back, and the service spreads onto it again,
 * start-first, within parallelism, never below its replicas.
 */
import { describe, expect, it } from '@jest/globals';
import { seededRandom } from '../../../src/scheduler/index.js';
import { parseStack } from '../../../src/stack/index.js';
import { peerId, register } from '../../state/helpers.js';
import { GiB } from '../batch/sim.js';
import { deployWeb, failNode, leaderSteps, running, spread, watch, webSim } from './support.js';

function settle(sim: ReturnType<typeof webSim>, replicas = 6): void {
  sim.runUntil(() => running(sim).length === replicas && sim.state.services.app_web!.rollout?.state !== 'updating');
}

describe('rebalancing', () => {
  it('moves replicas back onto a node that returns, one at a time, never below 6 running', () => {
    const sim = webSim();
    deployWeb(sim);
    settle(sim);
    expect(spread(sim)).toEqual([2, 2, 2]);

    failNode(sim, sim.nodeIds[2]!);
    expect(spread(sim)).toEqual([3, 3, 0]);

    sim.revive(sim.nodeIds[2]!);
    const w = watch(sim, 60, () => spread(sim).join() === '2,2,2' && running(sim).length === 6);
    expect(spread(sim)).toEqual([2, 2, 2]);
    expect(w.minRunning).toBeGreaterThanOrEqual(6);
    expect(w.maxMoves).toBe(1); // update_config.parallelism defaults to 1
    expect(w.creates).toBe(2); // two moves, nothing else

    // Settled: no more moves, however long it runs.
    expect(watch(sim, 50).creates).toBe(0);
  });

  it('moves up to update_config.parallelism slots at once', () => {
    const sim = webSim([{ cpus: 8 }, { cpus: 8 }, { cpus: 8 }, { cpus: 8 }]);
    deployWeb(sim, { replicas: 8, parallelism: 2 });
    settle(sim, 8);
    failNode(sim, sim.nodeIds[3]!, 8);
    failNode(sim, sim.nodeIds[2]!, 8);
    expect(spread(sim)).toEqual([4, 4, 0, 0]);

    sim.revive(sim.nodeIds[2]!);
    sim.revive(sim.nodeIds[3]!);
    const w = watch(sim, 60, () => spread(sim).join() === '2,2,2,2' && running(sim).length === 8);
    expect(spread(sim)).toEqual([2, 2, 2, 2]);
    expect(w.minRunning).toBeGreaterThanOrEqual(8);
    expect(w.maxMoves).toBe(2);
    expect(w.creates).toBe(4);
  });

  it('leaves a service with x-shoal.rebalance: false where it is', () => {
    const sim = webSim();
    deployWeb(sim, { rebalance: 'false' });
    settle(sim);
    failNode(sim, sim.nodeIds[2]!);
    sim.revive(sim.nodeIds[2]!);
    const w = watch(sim, 40);
    expect(w.creates).toBe(0);
    expect(spread(sim)).toEqual([3, 3, 0]);
  });

  it('moves only where the constraints allow', () => {
    const sim = webSim([{ cpus: 8 }, { cpus: 8 }, { cpus: 8 }, { cpus: 8 }]);
    deployWeb(sim, { constraint: 'node.hostname!=node-4' });
    settle(sim);
    failNode(sim, sim.nodeIds[2]!);
    sim.revive(sim.nodeIds[2]!);
    watch(sim, 60, () => spread(sim).join() === '2,2,2,0');
    expect(spread(sim)).toEqual([2, 2, 2, 0]);
    expect(watch(sim, 30).creates).toBe(0);
  });

  it('moves only what fits: a small node takes what its CPUs allow, and the rest stays', () => {
    // Node 3 has room for one task of 1 CPU; max_replicas_per_node leaves node 1 and 2 at 3.
    const sim = webSim([{ cpus: 8 }, { cpus: 8 }, { cpus: 1 }]);
    deployWeb(sim, { cpus: 1, maxPerNode: 3 });
    settle(sim);
    expect(spread(sim)).toEqual([3, 2, 1]);
    failNode(sim, sim.nodeIds[2]!);
    expect(spread(sim)).toEqual([3, 3, 0]);
    sim.revive(sim.nodeIds[2]!);
    const w = watch(sim, 40);
    expect(spread(sim).slice().sort()).toEqual([1, 2, 3]);
    expect(w.creates).toBe(1);
    expect(w.minRunning).toBeGreaterThanOrEqual(6);
  });

  it('never flaps: random failures and returns, then a settled spread that stays (seeded)', () => {
    for (const seed of [1, 2, 3]) {
      const random = seededRandom(seed);
      const sim = webSim([{ cpus: 8 }, { cpus: 8 }, { cpus: 8 }, { cpus: 8 }]);
      deployWeb(sim, { replicas: 9, parallelism: 2 });
      settle(sim, 9);
      const dead = new Set<string>();
      for (let round = 0; round < 6; round++) {
        const id = sim.nodeIds[Math.floor(random() * sim.nodeIds.length)]!;
        if (dead.has(id)) {
          sim.revive(id);
          dead.delete(id);
        } else if (dead.size < 2) {
          sim.kill(id);
          dead.add(id);
        }
        const w = watch(sim, 5 + Math.floor(random() * 15));
        expect(w.maxMoves).toBeLessThanOrEqual(2);
      }
      for (const id of dead) sim.revive(id);
      const w = watch(sim, 80, () => {
        const s = spread(sim);
        return running(sim).length === 9 && Math.max(...s) - Math.min(...s) <= 1;
      });
      expect(w.minRunning).toBeGreaterThanOrEqual(9);
      const s = spread(sim);
      expect(Math.max(...s) - Math.min(...s)).toBeLessThanOrEqual(1);
      expect(watch(sim, 60).creates).toBe(0);
    }
  });

  it('does not retry a slot whose move failed, and keeps the old task meanwhile', () => {
    const sim = webSim();
    deployWeb(sim);
    settle(sim);
    failNode(sim, sim.nodeIds[2]!);
    // Node 3 came back broken: whatever starts there exits 1 after a second.
    const broken = sim.nodeIds[2]!;
    sim.runner = (task) => (task.nodeId === broken ? { ms: 1000, exitCode: 1 } : { ms: 1e12, exitCode: 0 });
    sim.revive(broken);
    const w = watch(sim, 80);
    expect(w.minRunning).toBeGreaterThanOrEqual(6);
    expect(w.creates).toBeGreaterThan(0);
    expect(w.creates).toBeLessThanOrEqual(6); // each slot tried at most once
    expect(spread(sim)).toEqual([3, 3, 0]);
    expect(watch(sim, 30).creates).toBe(0);
  });

  it('goes on through scoped passes: each finished move starts the next', () => {
    const sim = webSim();
    deployWeb(sim, { healthcheck: true }); // a move is done once its new task runs (healthy)
    settle(sim);
    failNode(sim, sim.nodeIds[2]!);
    sim.revive(sim.nodeIds[2]!);
    sim.takeChanges();
    let fewest = Infinity;
    const full = leaderSteps(sim, 40, () => (fewest = Math.min(fewest, running(sim).length)));
    expect(spread(sim)).toEqual([2, 2, 2]);
    expect(fewest).toBeGreaterThanOrEqual(6);
    expect(full).toBe(1); // the one after the node came back (its status changed)
  });

  it('spreads onto a node that joins, in scoped passes and wake-ups', () => {
    const sim = webSim();
    deployWeb(sim);
    settle(sim);
    sim.takeChanges();
    sim.applyCommand(register(4, sim.now, { resources: { cpus: 8, memoryBytes: 16 * GiB, gpus: [] } }));
    sim.nodeIds.push(peerId(4));
    sim.heartbeat(); // it registered ready and is heard: no status change, the join alone wakes the pass
    let fewest = Infinity;
    const full = leaderSteps(sim, 20, () => (fewest = Math.min(fewest, running(sim).length)));
    expect(spread(sim).slice().sort()).toEqual([1, 1, 2, 2]);
    expect(fewest).toBeGreaterThanOrEqual(6);
    expect(full).toBe(1); // the move's monitor window
  });

  it('rejects a rebalance that is not a boolean, naming the field', () => {
    const yaml = 'services:\n  web:\n    image: web:1\n    x-shoal:\n      rebalance: sometimes\n';
    const parsed = parseStack(yaml, { file: '/tmp/compose.yml', name: 'app' });
    expect(parsed.ok).toBe(false);
    const errors = parsed.ok ? [] : parsed.errors;
    expect(errors.map((e) => `${e.path}: ${e.message}`)).toEqual([
      'services.web.x-shoal.rebalance: expected true or false, got "sometimes"',
    ]);
    const off = parseStack(yaml.replace('sometimes', 'false'), { file: '/tmp/compose.yml', name: 'app' });
    expect(off.ok && off.spec.services.web!.scheduling.rebalance).toBe(false);
    const on = parseStack(yaml.replace('sometimes', 'true'), { file: '/tmp/compose.yml', name: 'app' });
    expect(on.ok && 'rebalance' in on.spec.services.web!.scheduling).toBe(false); // the default: hashes as before
  });
});
