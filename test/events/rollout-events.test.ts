/**
 * Rollout events from a simulated rollout (test/controllers/rollout: the controller on virtual
 * time), its command log replayed into a state machine whose applied commands make events, as on
 * every agent.
 */
import { EventRecorder, EventWindow, type ClusterEvent } from '../../src/events/index.js';
import { ClusterStateMachine, type Command } from '../../src/state/index.js';
import { rolloutSim, runUntilState, web } from '../controllers/rollout/support.js';
import { T0 } from '../state/helpers.js';
import { applyNext } from '../state/workload-helpers.js';

function eventsOf(log: readonly Command[]): ClusterEvent[] {
  const machine = new ClusterStateMachine();
  const window = new EventWindow();
  machine.observeApplied(new EventRecorder({ window, now: () => T0, log: { error: () => undefined } }));
  // The sim's log holds what it applied, refusals included: replay only what applies.
  for (const command of log) applyNext(machine, command);
  const out: ClusterEvent[] = [];
  for (let seq = window.firstSeq; seq < window.nextSeq; seq++) out.push(window.get(seq)!);
  return out;
}

describe('rollout events', () => {
  it('an update that fails pauses with its reason; the first deploy is only a creation', () => {
    const sim = rolloutSim();
    sim.deploy(web('web:1'));
    runUntilState(sim, 'completed');
    sim.deploy(web('web:bad'));
    runUntilState(sim, 'paused');
    const rollout = eventsOf(sim.log).filter((e) => e.type === 'service' && e.action !== 'created');
    expect(rollout.map((e) => `${e.action} ${e.from}→${e.to}`)).toEqual([
      'updated undefined→undefined',
      'updating 1→2',
      'paused 1→2',
    ]);
    expect(rollout[2]!.message).toMatch(
      /^service app_web rollout paused \(version 1 → 2, .*\): 1 of 3 new tasks failed/,
    );
  });

  it('an automatic rollback is rolling_back then rolled_back', () => {
    const sim = rolloutSim();
    sim.deploy(web('web:1'));
    runUntilState(sim, 'completed');
    sim.deploy(web('web:bad', { update: '{failure_action: rollback}' }));
    runUntilState(sim, 'rolled_back');
    const actions = eventsOf(sim.log)
      .filter((e) => e.type === 'service' && e.service === 'app_web')
      .map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['updating', 'rolling_back', 'rolled_back']));
    expect(actions.indexOf('rolling_back')).toBeLessThan(actions.indexOf('rolled_back'));
  });
});
