/** The task view during a rollout: each task shows the image of its own version. */
import { taskView } from '../../src/agent/workload-api.js';
import { rolloutSim, runUntilState, service, web } from '../controllers/rollout/support.js';

describe('taskView()', () => {
  it('shows the image each task runs, not only the service current one', () => {
    const sim = rolloutSim();
    sim.deploy(web('web:1'));
    runUntilState(sim, 'completed');
    sim.deploy(web('web:bad'));
    runUntilState(sim, 'paused'); // one slot tried v2 and failed; the others still run v1
    const s = service(sim);
    const live = [...sim.view.tasks.ofService(s.id)]
      .filter((t) => t.desiredState === 'running')
      .map((t) => [t.serviceVersion, taskView(t, s, null).image]);
    expect(live).toContainEqual([1, 'web:1']);
    expect(live).toContainEqual([2, 'web:bad']);
  });
});
