/**
 * The rollout controller with the real apply and the real controller pass, in virtual time
 * (BatchSim: a step is a pass, the runtimes' reports, then one second). Swarm's semantics and
 * defaults (parallelism 1, delay 0, failure_action pause, monitor 5 s, max_failure_ratio 0,
 * stop-first), a progress deadline, automatic rollback to the last stable version (canaries:
 * canary.test.ts).
 */
import type { ServiceRollbackCommand, ServiceRolloutCommand } from '../../../src/state/index.js';
import { hashService } from '../../../src/stack/index.js';
import { decodeState, encodeState, HISTORY_LIMIT } from '../../../src/state/index.js';
import { stackOf } from '../batch/sim.js';
import { WEB, images, liveTasks, rolloutSim, runUntilState, service, web } from './support.js';

/** A sim with app_web v1 (web:1) deployed and its rollout completed. */
function started(o: Parameters<typeof web>[1] = {}, sim = rolloutSim()): ReturnType<typeof rolloutSim> {
  sim.deploy(web('web:1', o));
  runUntilState(sim, 'completed');
  return sim;
}

function rollbacks(sim: ReturnType<typeof rolloutSim>): ServiceRollbackCommand[] {
  return sim.log.filter((c): c is ServiceRollbackCommand => c.type === 'service.rollback');
}

function transitions(sim: ReturnType<typeof rolloutSim>): ServiceRolloutCommand[] {
  return sim.log.filter((c): c is ServiceRolloutCommand => c.type === 'service.rollout');
}

describe('planRollout() with the defaults', () => {
  it('the first deploy completes once every task has run for monitor, and marks the version stable', () => {
    const sim = rolloutSim();
    sim.deploy(web('web:1'));
    expect(service(sim).rollout).toMatchObject({ state: 'updating', fromVersion: 0, toVersion: 1 });
    runUntilState(sim, 'completed');
    expect(service(sim).history).toEqual([expect.objectContaining({ version: 1, stable: true })]);
    expect(service(sim).rollout).toMatchObject({ updated: 3, total: 3, failed: 0 });
  });

  it('replaces one slot at a time, stop-first, each once the previous one ran for monitor (5 s)', () => {
    const sim = started();
    sim.deploy(web('web:2'));
    const createdAt = new Map<string, number>();
    sim.runUntil(() => {
      for (const t of liveTasks(sim)) if (t.serviceVersion === 2) createdAt.set(t.id, t.createdAt);
      // stop-first, parallelism 1: never more than the 3 replicas, never two slots replaced at once
      expect(liveTasks(sim).length).toBeLessThanOrEqual(3);
      return service(sim).rollout?.state === 'completed';
    }, 100);
    const created = [...createdAt.values()].sort((a, b) => a - b);
    expect(created).toHaveLength(3);
    for (let i = 1; i < created.length; i++) expect(created[i]! - created[i - 1]!).toBeGreaterThanOrEqual(5000);
    expect(images(sim)).toEqual(['web:2', 'web:2', 'web:2']);
  });

  it('delay waits between slots on top of monitor', () => {
    const sim = started({ update: '{delay: 10s, monitor: 1s}' });
    sim.deploy(web('web:2', { update: '{delay: 10s, monitor: 1s}' }));
    runUntilState(sim, 'completed', 200);
    const created = liveTasks(sim)
      .map((t) => t.createdAt)
      .sort((a, b) => a - b);
    for (let i = 1; i < created.length; i++) expect(created[i]! - created[i - 1]!).toBeGreaterThanOrEqual(10_000);
  });
});

describe('planRollout() failures', () => {
  it('pauses (failure_action pause) when a new task fails: max_failure_ratio 0', () => {
    const sim = started();
    sim.deploy(web('web:bad'));
    runUntilState(sim, 'paused');
    expect(service(sim).rollout?.reason).toMatch(/1 of 3 new tasks failed, above max_failure_ratio 0/);
  });

  it('a paused rollout replaces no further slot', () => {
    const sim = started();
    sim.deploy(web('web:bad'));
    runUntilState(sim, 'paused');
    for (let i = 0; i < 30; i++) sim.step();
    expect(images(sim).filter((i) => i === 'web:1')).toHaveLength(2);
    expect(service(sim).rollout?.state).toBe('paused');
  });

  it.each([
    [0, 'paused'],
    [0.5, 'completed'],
  ])('a failure of 1 in 3 with max_failure_ratio %s: %s', (ratio, outcome) => {
    const sim = started();
    let failedOnce = false;
    const runner = sim.runner;
    sim.runner = (task, job) => {
      if (task.serviceVersion === 2 && !failedOnce) {
        failedOnce = true;
        return { ms: 1000, exitCode: 1 };
      }
      return runner(task, job);
    };
    sim.deploy(web('web:2', { update: `{max_failure_ratio: ${ratio}}` }));
    sim.runUntil(() => ['paused', 'completed'].includes(service(sim).rollout!.state), 200);
    expect(service(sim).rollout?.state).toBe(outcome);
  });

  it('monitor: a task that fails within monitor counts as failed', () => {
    const sim = started({}, rolloutSim({ lateMs: 3000 }));
    sim.deploy(web('web:late', { update: '{monitor: 5s}' }));
    runUntilState(sim, 'paused');
    expect(service(sim).rollout?.failed).toBe(1);
  });

  it('monitor: a task that fails after monitor does not count, and the rollout goes on', () => {
    const sim = started({}, rolloutSim({ lateMs: 3000 }));
    sim.deploy(web('web:late', { update: '{monitor: 2s}' }));
    sim.runUntil(() => liveTasks(sim).filter((t) => t.serviceVersion === 2).length >= 2, 60);
    expect(service(sim).rollout).toMatchObject({ state: 'updating', failed: 0 });
  });

  it('continue: failures are counted and the rollout goes on to the end', () => {
    const sim = started();
    sim.deploy(web('web:bad', { update: '{failure_action: continue, monitor: 1s}' }));
    sim.runUntil(() => liveTasks(sim).every((t) => t.serviceVersion === 2), 100);
    expect(transitions(sim).some((t) => t.state === 'updating' && t.failed > 0)).toBe(true);
    expect(service(sim).rollout?.state).toBe('updating');
  });
});

describe('planRollout() rollback', () => {
  it('failure_action rollback goes back to the last stable version, keeping the tasks never updated', () => {
    const sim = started();
    const untouched = liveTasks(sim)
      .filter((t) => t.slot > 1)
      .map((t) => t.id);
    sim.deploy(web('web:bad', { update: '{failure_action: rollback}', rollback: '{parallelism: 0}' }));
    runUntilState(sim, 'rolled_back');
    expect(rollbacks(sim)).toEqual([expect.objectContaining({ to: 1, ifVersion: 2 })]);
    expect(service(sim)).toMatchObject({ version: 3, spec: expect.objectContaining({ image: 'web:1' }) });
    expect(service(sim).rollout?.reason).toMatch(/^automatic rollback to version 1: 1 of 3 new tasks failed/);
    expect(service(sim).history?.at(-1)).toMatchObject({ version: 3, rollbackOf: 1, stable: true });
    // Versions 1 and 3 run the same spec: the slots never updated kept their tasks.
    expect(
      liveTasks(sim)
        .filter((t) => t.slot > 1)
        .map((t) => t.id),
    ).toEqual(untouched);
    expect(images(sim)).toEqual(['web:1', 'web:1', 'web:1']);
  });

  it('never rolls back a rollback: a failing rollback pauses', () => {
    const sim = started();
    sim.deploy(web('web:bad', { update: '{failure_action: rollback}', rollback: '{failure_action: pause}' }));
    sim.runUntil(() => service(sim).rollout?.state === 'rolling_back', 100);
    sim.failAll.on = true; // now version 1 fails too
    runUntilState(sim, 'rollback_paused');
    for (let i = 0; i < 20; i++) sim.step();
    expect(rollbacks(sim)).toHaveLength(1);
    expect(service(sim).rollout?.state).toBe('rollback_paused');
  });

  it('with no stable version to go back to, pauses and says so', () => {
    const sim = rolloutSim();
    sim.deploy(web('web:bad', { update: '{failure_action: rollback}' }));
    runUntilState(sim, 'paused');
    expect(service(sim).rollout?.reason).toMatch(/nothing to roll back to/);
    expect(rollbacks(sim)).toEqual([]);
  });

  it('service.rollback --to N makes a new version with the spec of N', () => {
    const sim = started();
    for (const image of ['web:2', 'web:3']) {
      sim.deploy(web(image));
      runUntilState(sim, 'completed', 100);
    }
    sim.apply({ type: 'service.rollback', serviceId: WEB, to: 2 });
    expect(service(sim)).toMatchObject({ version: 4, spec: expect.objectContaining({ image: 'web:2' }) });
    expect(service(sim).rollout).toMatchObject({ state: 'rolling_back', reason: 'rollback to version 2 requested' });
    runUntilState(sim, 'rolled_back', 100);
    expect(images(sim)).toEqual(['web:2', 'web:2', 'web:2']);
    expect(sim.tryApply({ type: 'service.rollback', serviceId: WEB, to: 99 })).toEqual({
      ok: false,
      error: expect.stringMatching(/version 99 of app_web is not in its history \(kept: 1, 2, 3, 4\)/),
    });
  });

  it('the history keeps the last 10 versions', () => {
    const sim = started();
    for (let v = 2; v <= 12; v++) sim.deploy(web(`web:${v}`));
    const history = service(sim).history!;
    expect(history).toHaveLength(HISTORY_LIMIT);
    expect(history.map((e) => e.version)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });
});

describe('planRollout() progress deadline', () => {
  it('a rollout with no task updated for progress_deadline pauses with the reason', () => {
    const sim = started({ shoalUpdate: '{progress_deadline: 30s}' });
    // Version 2 can be placed nowhere: its first slot, stopped first, never comes back.
    sim.deploy(web('web:2', { shoalUpdate: '{progress_deadline: 30s}', constraint: 'node.labels.zone == nowhere' }));
    const at = sim.now;
    runUntilState(sim, 'paused', 100);
    expect(service(sim).rollout?.reason).toBe('no task updated for 30 s (progress deadline)');
    expect(sim.now - at).toBeGreaterThanOrEqual(30_000);
  });

  it('with failure_action rollback, a deadline rolls back', () => {
    const o = { shoalUpdate: '{progress_deadline: 20s}', update: '{failure_action: rollback}' };
    const sim = started(o);
    sim.deploy(web('web:2', { ...o, constraint: 'node.labels.zone == nowhere' }));
    runUntilState(sim, 'rolled_back', 100);
    expect(images(sim)).toEqual(['web:1', 'web:1', 'web:1']);
  });
});

describe('planRollout() on a global service', () => {
  it('replaces one node at a time and completes', () => {
    const sim = rolloutSim();
    const global = (image: string) =>
      stackOf(`services:\n  agent:\n    image: ${image}\n    deploy:\n      mode: global\n`, 'app');
    sim.deploy(global('agent:1'));
    sim.runUntil(() => sim.state.services.app_agent?.rollout?.state === 'completed', 100);
    sim.deploy(global('agent:2'));
    let most = 0;
    sim.runUntil(() => {
      const v2 = Object.values(sim.state.tasks).filter(
        (t) => t.serviceId === 'app_agent' && t.serviceVersion === 2 && t.desiredState === 'running',
      );
      const young = v2.filter((t) => t.state !== 'running' || sim.now - (t.startedAt ?? sim.now) < 5000);
      most = Math.max(most, young.length);
      return sim.state.services.app_agent?.rollout?.state === 'completed';
    }, 100);
    expect(most).toBe(1); // parallelism 1: one node's task under way (or monitored) at a time
    expect(sim.state.services.app_agent?.rollout).toMatchObject({ updated: 3, total: 3 });
  });
});

describe('service.update', () => {
  it('a new image makes a new version that rolls out; force replaces tasks of an unchanged spec', () => {
    const sim = started();
    const spec = { ...service(sim).spec, image: 'web:2' };
    sim.apply({ type: 'service.update', serviceId: WEB, spec, specHash: hashService(spec), force: false });
    runUntilState(sim, 'completed', 100);
    expect(images(sim)).toEqual(['web:2', 'web:2', 'web:2']);
    const before = liveTasks(sim).map((t) => t.id);
    sim.apply({ type: 'service.update', serviceId: WEB, spec, specHash: hashService(spec), force: true });
    expect(service(sim).history?.at(-1)).toMatchObject({ version: 3, force: 1 });
    runUntilState(sim, 'completed', 100);
    expect(
      liveTasks(sim)
        .map((t) => t.id)
        .some((id) => before.includes(id)),
    ).toBe(false);
  });
});

describe('service.update ifVersion', () => {
  it('is refused when the service moved on since the update was made (a deploy in between)', () => {
    const sim = started();
    const made = service(sim).version;
    const spec = { ...service(sim).spec, image: 'web:from-update' };
    sim.deploy(web('web:2')); // lands between the update's read and its write
    const stale = sim.tryApply({
      type: 'service.update',
      serviceId: WEB,
      spec,
      specHash: hashService(spec),
      force: false,
      ifVersion: made,
    });
    expect(stale).toEqual({ ok: false, error: expect.stringMatching(/changed meanwhile .*run it again/) });
    expect(service(sim).spec.image).toBe('web:2');
    const fresh = { ...service(sim).spec, image: 'web:3' };
    const current = service(sim).version;
    sim.apply({
      type: 'service.update',
      serviceId: WEB,
      spec: fresh,
      specHash: hashService(fresh),
      force: false,
      ifVersion: current,
    });
    expect(service(sim).spec.image).toBe('web:3');
  });
});

describe('rollout state in snapshots', () => {
  it('round-trips, and a service record without rollout or history still loads', () => {
    const sim = started();
    sim.deploy(web('web:2'));
    sim.step();
    const state = sim.state;
    expect(decodeState(encodeState(state, 1)).state.services[WEB]).toEqual(state.services[WEB]);
    const { rollout: _r, history: _h, ...legacy } = state.services[WEB]!;
    const old = { ...state, services: { ...state.services, [WEB]: legacy } };
    expect(decodeState(encodeState(old, 1)).state.services[WEB]).toEqual(legacy);
  });
});
