/**
 * `npm run bench:rollout` (issue 15 item 7), in one run on this machine's Docker Engine: 10
 * replicas of a small HTTP server with a health check (two tags built locally, bench/rollout-plan.ts)
 * updated to the new image at parallelism 2, delay 0, monitor 5 s, start-first:
 *  (a) by shoal, a 1-node cluster with the service mesh (bench/rollout-shoal.ts): from the update
 *      command until every replica runs v2 and is healthy (and, also printed, until the rollout
 *      state is `completed`, which waits out `monitor` after the last slot);
 *  (b) by a single-node Docker Swarm on the same engine (bench/rollout-swarm.ts): from `docker
 *      service update --image` until UpdateStatus is `completed` with 10 tasks of v2 running (that
 *      also waits out `monitor`; until 10 healthy v2 containers is printed too);
 *  (c) failed requests of a bounded load (4 workers, one GET at a time on a new connection, 20 ms
 *      apart) through shoal's published port (the mesh's ingress listener) during (a);
 *  (d) push to running (bench/rollout-push.ts): the service deployed from a tag of a loopback
 *      registry with `x-shoal.image_update: {interval: 5s}`; from the push of v2 under that tag
 *      until every replica runs it healthy (the leader's watch rolls it out by itself).
 * Last line: JSON.   npm run bench:rollout -- [--only shoal|swarm|push]
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { bundle } from '../scripts/bundle.mjs';
import { buildImages, PLAN, type Timeline } from './rollout-plan.js';
import { showPhases } from './rollout-phases.js';
import { runShoalRollout, type ShoalResult } from './rollout-shoal.js';
import { runSwarmRollout, type SwarmResult } from './rollout-swarm.js';
import { runPushToRunning, type PushResult } from './rollout-push.js';
import { freePort } from '../test/support/free-port.js';

const { values } = parseArgs({ options: { only: { type: 'string' } } });
const only = values.only;
if (only !== undefined && only !== 'shoal' && only !== 'swarm' && only !== 'push')
  throw new Error(`Cannot run --only ${only}: expected shoal, swarm or push`);
/** The watch interval of the push-to-running measurement (issue 15: `interval: 5s`). */
const WATCH_S = 5;

const round = (s: number) => Math.round(s * 100) / 100;
const showTimeline = (t: Timeline) =>
  Object.entries(t)
    .filter(([count]) => Number(count) > 0)
    .map(([count, s]) => `${count}@${s.toFixed(1)}s`)
    .join(' ');

async function main(): Promise<void> {
  execFileSync('bash', ['scripts/ensure-docker.sh'], { stdio: 'ignore' });
  execFileSync('bash', ['scripts/build-test-image.sh'], { stdio: 'ignore' });
  buildImages(PLAN);
  await bundle();
  console.log(`load average at start: ${execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim()}`);

  let shoal: ShoalResult | null = null;
  if (only === undefined || only === 'shoal') {
    shoal = await runShoalRollout(PLAN, await freePort('0.0.0.0'));
    console.log(
      `shoal (1 node, --mesh): every replica v2 and healthy after ${shoal.allNewHealthyS.toFixed(2)} s, rollout completed after ${shoal.completedS.toFixed(2)} s; healthy v2 replicas over time: ${showTimeline(shoal.timeline)}`,
    );
    console.log(`shoal's new containers, s after the update command:\n${showPhases(shoal.phases)}`);
    const l = shoal.load;
    console.log(
      `shoal load through the published port: ${l.sent} requests, ${l.failed} failed, answers ${JSON.stringify(l.bodies)}${l.errors.length ? `; first errors: ${l.errors.join('; ')}` : ''}`,
    );
  }
  let push: PushResult | null = null;
  if (only === undefined || only === 'push') {
    push = await runPushToRunning(PLAN, WATCH_S);
    if (push)
      console.log(
        `push to running (interval ${WATCH_S} s): the watch updated the service ${push.detectedS.toFixed(2)} s after the push, every replica on the pushed digest and healthy after ${push.allNewHealthyS.toFixed(2)} s`,
      );
  }
  let swarm: SwarmResult | null = null;
  if (only === undefined || only === 'swarm') {
    swarm = await runSwarmRollout(PLAN, await freePort('0.0.0.0'));
    if (swarm) {
      console.log(
        `swarm (1 node): 10 healthy v2 containers after ${swarm.allNewHealthyS.toFixed(2)} s, UpdateStatus completed after ${swarm.completedS.toFixed(2)} s; healthy v2 containers over time: ${showTimeline(swarm.timeline)}`,
      );
      console.log(`swarm's new containers, s after the update command:\n${showPhases(swarm.phases)}`);
      const l = swarm.load;
      if (l)
        console.log(
          `swarm load through its ingress port: ${l.sent} requests, ${l.failed} failed, answers ${JSON.stringify(l.bodies)}${l.errors.length ? `; first errors: ${l.errors.join('; ')}` : ''}`,
        );
    }
  }
  console.log(`load average at end: ${execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim()}`);
  console.log(
    JSON.stringify({
      bench: 'rollout',
      replicas: PLAN.replicas,
      update: PLAN.update,
      // like for like: both until the update is completed (the last slot past `monitor`)
      shoal_rollout_s: shoal ? round(shoal.completedS) : null,
      swarm_rollout_s: swarm ? round(swarm.completedS) : null,
      shoal_all_v2_healthy_s: shoal ? round(shoal.allNewHealthyS) : null,
      swarm_all_v2_healthy_s: swarm ? round(swarm.allNewHealthyS) : null,
      failed_requests: shoal ? shoal.load.failed : null,
      requests: shoal ? shoal.load.sent : null,
      swarm_failed_requests: swarm?.load ? swarm.load.failed : null,
      swarm_requests: swarm?.load ? swarm.load.sent : null,
      // from the push under the watched tag until every replica runs it healthy (interval 5 s)
      push_to_running_s: push ? round(push.allNewHealthyS) : null,
      push_detected_s: push ? round(push.detectedS) : null,
      // the goal: push_to_running_s <= interval + shoal_rollout_s + 2
      push_goal_s: push && shoal ? round(WATCH_S + shoal.completedS + 2) : null,
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
