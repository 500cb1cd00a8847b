import { InspectCache, summaryKey } from '../../src/runtime/inspect-cache.js';
import { container } from './fixtures.js';

const view = container({ id: 'c1', taskId: 't1' });

describe('summaryKey()', () => {
  it.each([
    [{ Id: 'c1', State: 'running', Status: 'Up 3 seconds' }, 'running||'],
    [{ Id: 'c1', State: 'running', Status: 'Up 2 minutes' }, 'running||'],
    [{ Id: 'c1', State: 'running', Status: 'Up 2 minutes (healthy)' }, 'running|healthy|'],
    [{ Id: 'c1', State: 'running', Status: 'Up 1 second (health: starting)' }, 'running|health: starting|'],
    [{ Id: 'c1', State: 'exited', Status: 'Exited (137) 2 seconds ago' }, 'exited||137'],
    [{ Id: 'c1', State: 'restarting', Status: 'Restarting (1) Less than a second ago' }, 'restarting||1'],
    [{ Id: 'c1' }, '||'],
  ])('summaryKey(%j) is %s: the clock in the status text is left out', (summary, key) => {
    expect(summaryKey(summary)).toBe(key);
  });
});

describe('InspectCache', () => {
  const running = { Id: 'c1', State: 'running', Status: 'Up 3 seconds' };

  it('keeps a view while the summary says the same and it is fresh', () => {
    let now = 0;
    const cache = new InspectCache({ maxAgeMs: 2000, now: () => now });
    cache.set(running, view, cache.epoch('c1'));
    now = 1500;
    expect(cache.get({ ...running, Status: 'Up 5 seconds' })).toBe(view);
    expect(cache.get({ ...running, State: 'exited', Status: 'Exited (0) 1 second ago' })).toBeUndefined();
    now = 2001;
    expect(cache.get(running)).toBeUndefined();
  });

  it('forget() drops the view, and an inspection begun before it is not kept', () => {
    const cache = new InspectCache();
    const before = cache.epoch('c1');
    cache.forget('c1'); // an event while the inspection was in flight
    cache.set(running, view, before);
    expect(cache.get(running)).toBeUndefined();
    cache.set(running, view, cache.epoch('c1'));
    expect(cache.get(running)).toBe(view);
    cache.forget('c1');
    expect(cache.get(running)).toBeUndefined();
  });

  it('retain() drops the views of containers no longer listed', () => {
    const cache = new InspectCache();
    cache.set(running, view, 0);
    cache.retain(new Set(['c2']));
    expect(cache.get(running)).toBeUndefined();
  });
});
