/**
 * Canaries (issue 15, Nomad's semantics): `x-shoal.update.canary: N` runs N tasks of the new
 * version beside the `replicas` old ones, waits for `service.promote` (or, with auto_promote, for
 * the canaries to have run `monitor`), then each canary takes over its slot and the other slots
 * are replaced with update_config. The real apply and controller pass, in virtual time.
 */
import type { ServiceRolloutCommand, TaskRecord } from '../../../src/state/index.js';
import { seededRandom } from '../../../src/scheduler/index.js';
import { canarySlots } from '../../../src/controllers/rollout/canary.js';
import { WEB, images, liveTasks, rolloutSim, runUntilState, service, web, type WebOptions } from './support.js';

type Sim = ReturnType<typeof rolloutSim>;

/** A sim with app_web v1 (web:1) deployed and its rollout completed. */
function started(o: WebOptions, sim = rolloutSim()): Sim {
  sim.deploy(web('web:1', o));
  runUntilState(sim, 'completed');
  return sim;
}

const ids = (tasks: readonly TaskRecord[]): string[] => tasks.map((t) => t.id).sort();
const ofVersion = (sim: Sim, version: number): TaskRecord[] =>
  liveTasks(sim).filter((t) => t.serviceVersion === version);
const transitions = (sim: Sim): ServiceRolloutCommand[] =>
  sim.log.filter((c): c is ServiceRolloutCommand => c.type === 'service.rollout');

/** Steps until `state`, checking at every step that the old tasks are all still live. */
function untilStateKeeping(sim: Sim, state: string, old: readonly string[], maxSteps = 100): void {
  sim.runUntil(() => {
    expect(ids(ofVersion(sim, 1))).toEqual(old);
    return service(sim).rollout?.state === state;
  }, maxSteps);
}

describe('canaries: the canary phase', () => {
  it('runs N canaries beside the replicas old tasks, which stay untouched, and waits for service.promote', () => {
    const o = { replicas: 4, shoalUpdate: '{canary: 1}' };
    const sim = started(o);
    const old = ids(liveTasks(sim));
    sim.deploy(web('web:2', o));
    untilStateKeeping(sim, 'awaiting_promotion', old);
    for (let i = 0; i < 30; i++) sim.step();
    expect(ids(ofVersion(sim, 1))).toEqual(old);
    expect(images(sim).sort()).toEqual(['web:1', 'web:1', 'web:1', 'web:1', 'web:2']);
    const [canary] = ofVersion(sim, 2);
    expect(canary).toMatchObject({ slot: 1, state: 'running' });
    expect(service(sim).rollout?.reason).toMatch(/1 canaries healthy: promote with `shoal service promote app_web`/);
  });

  it('on promotion the canaries take over their slots and the rest is replaced: exactly replicas new tasks', () => {
    const o = { replicas: 4, update: '{parallelism: 2, monitor: 2s}', shoalUpdate: '{canary: 2}' };
    const sim = started(o);
    sim.deploy(web('web:2', o));
    runUntilState(sim, 'awaiting_promotion');
    const canaries = ids(ofVersion(sim, 2));
    expect(canaries).toHaveLength(2);
    expect(liveTasks(sim)).toHaveLength(6);
    sim.apply({ type: 'service.promote', serviceId: WEB });
    sim.step();
    // The canaries' slots (1 and 2) dropped their old tasks at once; slots 3 and 4 are replaced.
    expect(ids(liveTasks(sim).filter((t) => t.slot <= 2))).toEqual(canaries);
    sim.runUntil(() => {
      // stop-first, parallelism 2: never fewer than 2 of the 4 slots running, never more than 4 tasks
      expect(liveTasks(sim).length).toBeLessThanOrEqual(4);
      return service(sim).rollout?.state === 'completed';
    }, 100);
    expect(images(sim)).toEqual(['web:2', 'web:2', 'web:2', 'web:2']);
    expect(ids(liveTasks(sim))).toEqual(expect.arrayContaining(canaries));
    for (let i = 0; i < 10; i++) sim.step();
    expect(liveTasks(sim)).toHaveLength(4);
  });

  it('auto_promote promotes once every canary has run for monitor, without awaiting promotion', () => {
    const o = { replicas: 3, update: '{monitor: 5s}', shoalUpdate: '{canary: 2, auto_promote: true}' };
    const sim = started(o);
    sim.deploy(web('web:2', o));
    sim.runUntil(() => service(sim).rollout?.promoted === true, 60);
    const canaries = ofVersion(sim, 2);
    expect(canaries).toHaveLength(2);
    for (const c of canaries) expect(sim.now - c.startedAt!).toBeGreaterThanOrEqual(5000);
    expect(ofVersion(sim, 1)).toHaveLength(3);
    runUntilState(sim, 'completed', 100);
    expect(images(sim)).toEqual(['web:2', 'web:2', 'web:2']);
    expect(transitions(sim).some((t) => t.state === 'awaiting_promotion' && t.version === 2)).toBe(false);
  });

  it('promote is refused without canaries', () => {
    const sim = started({});
    expect(sim.tryApply({ type: 'service.promote', serviceId: WEB })).toEqual({
      ok: false,
      error: expect.stringMatching(/has no canaries to promote/),
    });
  });
});

describe('canaries: failures', () => {
  it('a crashing canary with failure_action rollback: the canaries go, the old tasks were never touched', () => {
    const o = { replicas: 3, update: '{failure_action: rollback}', shoalUpdate: '{canary: 2}' };
    const sim = started(o);
    const old = ids(liveTasks(sim));
    sim.deploy(web('web:bad', o));
    untilStateKeeping(sim, 'rolled_back', old);
    for (let i = 0; i < 10; i++) sim.step();
    expect(ids(liveTasks(sim))).toEqual(old);
    expect(service(sim).rollout?.reason).toMatch(/^automatic rollback to version 1: 2 of 3 new tasks failed/);
  });

  it('failure_action pause keeps the canaries for inspection (Nomad) and touches nothing else', () => {
    const o = { replicas: 4, shoalUpdate: '{canary: 2}' };
    const sim = started(o);
    const old = ids(liveTasks(sim));
    // The first canary crashes after a second; the second runs.
    let crashed = false;
    const runner = sim.runner;
    sim.runner = (task, job) => {
      if (task.serviceVersion !== 2 || crashed) return runner(task, job);
      crashed = true;
      return { ms: 1000, exitCode: 1 };
    };
    sim.deploy(web('web:2', o));
    untilStateKeeping(sim, 'paused', old);
    for (let i = 0; i < 30; i++) sim.step();
    expect(ids(ofVersion(sim, 1))).toEqual(old);
    expect(ofVersion(sim, 2)).toHaveLength(1);
    expect(
      sim.state.tasks[Object.keys(sim.state.tasks).find((id) => sim.state.tasks[id]!.state === 'failed')!],
    ).toMatchObject({ serviceVersion: 2, desiredState: 'running' });
    // A rollback from the pause stops the canary that still runs.
    sim.apply({ type: 'service.rollback', serviceId: WEB });
    untilStateKeeping(sim, 'rolled_back', old);
    sim.step();
    expect(ids(liveTasks(sim))).toEqual(old);
  });

  it('failure_action continue starts a crashing canary again; the progress deadline pauses the phase', () => {
    const o = { replicas: 2, update: '{failure_action: continue}', shoalUpdate: '{canary: 1, progress_deadline: 30s}' };
    const sim = started(o);
    const old = ids(liveTasks(sim));
    sim.deploy(web('web:bad', o));
    untilStateKeeping(sim, 'paused', old);
    expect(service(sim).rollout?.reason).toBe('no task updated for 30 s (progress deadline)');
    const canaries = Object.values(sim.state.tasks).filter((t) => t.serviceVersion === 2);
    expect(canaries.length).toBeGreaterThan(1);
    expect(canaries.every((t) => t.slot === 1)).toBe(true);
  });

  it('a new update during the canary phase replaces the canaries with its own, beside the same old tasks', () => {
    const o = { replicas: 3, shoalUpdate: '{canary: 1}' };
    const sim = started(o);
    const old = ids(liveTasks(sim));
    sim.deploy(web('web:2', o));
    runUntilState(sim, 'awaiting_promotion');
    sim.deploy(web('web:3', o));
    untilStateKeeping(sim, 'awaiting_promotion', old);
    expect(ofVersion(sim, 2)).toEqual([]);
    expect(images(sim).sort()).toEqual(['web:1', 'web:1', 'web:1', 'web:3']);
  });
});

describe('canaries: scaling during the canary phase', () => {
  it('scaling up adds slots of the new version and keeps N canaries; promotion ends with exactly replicas tasks', () => {
    const o = { replicas: 3, shoalUpdate: '{canary: 2}' };
    const sim = started(o);
    const old = ids(liveTasks(sim));
    sim.deploy(web('web:2', o));
    runUntilState(sim, 'awaiting_promotion');
    sim.apply({ type: 'service.scale', serviceId: WEB, replicas: 5 });
    for (let i = 0; i < 15; i++) sim.step();
    expect(ids(ofVersion(sim, 1))).toEqual(old);
    expect(canarySlots(service(sim))).toBe(2);
    expect(ofVersion(sim, 2).map((t) => t.slot)).toEqual([1, 2, 4, 5]);
    expect(service(sim).rollout).toMatchObject({
      state: 'awaiting_promotion',
      reason: expect.stringMatching(/^2 canaries/),
    });
    sim.apply({ type: 'service.promote', serviceId: WEB });
    runUntilState(sim, 'completed', 100);
    for (let i = 0; i < 5; i++) sim.step();
    expect(images(sim)).toEqual(['web:2', 'web:2', 'web:2', 'web:2', 'web:2']);
  });

  it('scaling below N takes the canaries of the removed slots with them', () => {
    const o = { replicas: 4, shoalUpdate: '{canary: 3}' };
    const sim = started(o);
    sim.deploy(web('web:2', o));
    runUntilState(sim, 'awaiting_promotion');
    sim.apply({ type: 'service.scale', serviceId: WEB, replicas: 2 });
    for (let i = 0; i < 5; i++) sim.step();
    expect(liveTasks(sim).map((t) => [t.slot, t.serviceVersion])).toEqual([
      [1, 1],
      [1, 2],
      [2, 1],
      [2, 2],
    ]);
    expect(service(sim).rollout).toMatchObject({
      state: 'awaiting_promotion',
      reason: expect.stringMatching(/^2 canaries/),
    });
    sim.apply({ type: 'service.promote', serviceId: WEB });
    runUntilState(sim, 'completed', 100);
    sim.step();
    expect(images(sim)).toEqual(['web:2', 'web:2']);
  });
});

describe('canaries: seeded random scenarios', () => {
  it.each(Array.from({ length: 16 }, (_, i) => i + 1))(
    'seed %i: in the canary phase the old tasks stay and never fewer than replicas run; one task per slot at the end',
    (seed) => {
      const random = seededRandom(seed);
      const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
      const o: WebOptions = {
        replicas: 1 + Math.floor(random() * 5),
        update: `{parallelism: ${pick([0, 1, 2])}, order: ${pick(['stop-first', 'start-first'])}, monitor: ${pick([1, 3, 5])}s, failure_action: ${pick(['pause', 'rollback'])}}`,
        shoalUpdate: `{canary: ${1 + Math.floor(random() * 3)}, auto_promote: ${pick([true, false])}}`,
      };
      const sim = started(o);
      let old = ofVersion(sim, 1);
      const image = pick(['web:2', 'web:2', 'web:bad']);
      sim.deploy(web(image, o));
      const trace: string[] = [`seed ${seed}: ${JSON.stringify(o)} ${image}`];
      const fail = (step: number, what: string): never => {
        throw new Error(`${trace.join('\n')}\nt${step}: ${what}`);
      };
      // Scaling down lowers what must run; scaling up adds slots that start from nothing.
      let floor = service(sim).replicas;
      for (let step = 0; step < 150; step++) {
        const state = service(sim).rollout!.state;
        if (['completed', 'rolled_back', 'rollback_paused'].includes(state)) break;
        const roll = random();
        if (roll < 0.05) {
          const replicas = 1 + Math.floor(random() * 5);
          trace.push(`t${step}: scale to ${replicas}`);
          sim.apply({ type: 'service.scale', serviceId: WEB, replicas });
          floor = Math.min(floor, replicas);
          old = old.filter((t) => t.slot <= replicas); // a scale-down stops the others
        } else if (roll < 0.15 && state === 'awaiting_promotion') {
          trace.push(`t${step}: promote`);
          sim.apply({ type: 'service.promote', serviceId: WEB });
        }
        sim.step();
        if (canarySlots(service(sim)) === 0) continue;
        const replicas = service(sim).replicas;
        const running = new Set(
          liveTasks(sim).flatMap((t) => (t.state === 'running' && t.slot <= replicas ? [t.slot] : [])),
        );
        if (running.size < floor) fail(step, `${running.size} slots running < ${floor}`);
        const stopped = old.filter((t) => sim.state.tasks[t.id]!.desiredState !== 'running');
        if (stopped.length > 0) fail(step, `old ${ids(stopped).join(', ')} stopped in the canary phase`);
      }
      // Whatever the outcome, each slot ends with one task (the canaries never stay as extras).
      if (service(sim).rollout!.state === 'awaiting_promotion') sim.apply({ type: 'service.promote', serviceId: WEB });
      if (service(sim).rollout!.state === 'paused') return;
      sim.runUntil(() => ['completed', 'rolled_back', 'rollback_paused'].includes(service(sim).rollout!.state), 200);
      for (let i = 0; i < 10; i++) sim.step();
      const live = liveTasks(sim);
      expect(live.map((t) => t.slot)).toEqual(Array.from({ length: service(sim).replicas }, (_, i) => i + 1));
      expect(new Set(images(sim))).toEqual(new Set([service(sim).spec.image]));
    },
  );
});
