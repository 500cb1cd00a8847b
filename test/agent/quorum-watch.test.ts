/** QuorumWatch: a node that cannot get a read confirmed for fenceAfterMs is fenced, and unfenced once it can. */
import { QuorumWatch } from '../../src/agent/quorum-watch.js';

function setup(needed = true) {
  let now = 0;
  let reachable = true;
  const changes: [boolean, number][] = [];
  const watch = new QuorumWatch({
    read: () => (reachable ? Promise.resolve() : Promise.reject(new Error('not confirmed'))),
    needed: () => needed,
    now: () => now,
    fenceAfterMs: () => 2_000,
    onChange: (fenced, silentMs) => changes.push([fenced, silentMs]),
  });
  return {
    watch,
    changes,
    at: (ms: number) => (now = ms),
    cut: (cut: boolean) => (reachable = !cut),
  };
}

describe('QuorumWatch', () => {
  it('probe() fences after fenceAfterMs without a confirmed read, and unfences on the next one', async () => {
    const { watch, changes, at, cut } = setup();
    await watch.probe();
    cut(true);
    at(1_500);
    await watch.probe();
    expect(watch.fenced).toBe(false);
    at(2_100);
    await watch.probe();
    expect(watch.fenced).toBe(true);
    cut(false);
    at(2_600);
    await watch.probe();
    expect(watch.fenced).toBe(false);
    expect(changes).toEqual([
      [true, 2_100],
      [false, 0],
    ]);
  });

  it('probe() makes no read and never fences while nothing on the node needs fencing', async () => {
    const { watch, at, cut } = setup(false);
    cut(true);
    at(10_000);
    await watch.probe();
    expect(watch.fenced).toBe(false);
    expect(watch.silentMs).toBe(0);
  });
});
