import { EntryRing, chooseSource, lagVerdict, planCatchUp, rankSources } from '../../src/follow/index.js';
import { span } from './helpers.js';

function ringOf(base: number, last: number, size = 68): EntryRing {
  const ring = new EntryRing({ maxEntries: 1_000_000, maxBytes: 2 ** 40 });
  ring.reset(base);
  if (last > base) ring.push(span(base + 1, last, size));
  return ring;
}

describe('planCatchUp()', () => {
  it.each([
    ['a fresh observer (from 0)', 0, 100, 200, true, { kind: 'snapshot' }],
    ['an observer older than the ring', 50, 100, 200, true, { kind: 'snapshot' }],
    ['an observer at the ring base', 100, 100, 200, true, { kind: 'entries', after: 100 }],
    ['an observer inside the ring', 150, 100, 200, true, { kind: 'entries', after: 150 }],
    ['an observer ahead of this member (it waits)', 250, 100, 200, true, { kind: 'entries', after: 250 }],
    ['any observer before the source saw the log', 150, 0, 0, false, { kind: 'snapshot' }],
  ])('serves %s', (_what, from, base, last, known, plan) => {
    expect(planCatchUp(from, ringOf(base, last), known)).toEqual(plan);
  });
});

describe('lagVerdict()', () => {
  const ring = ringOf(100, 200); // 100 bytes an entry
  it.each([
    ['keeps a subscriber that is up to date', 200, 0, 1_000, null],
    ['keeps one within the byte bound', 195, 200, 1_000, null],
    ['drops one over the byte bound (ring bytes plus write buffer)', 195, 600, 1_000, 'too-far'],
    ['drops one whose entries left the ring', 99, 0, 1e12, 'evicted'],
  ])('%s', (_what, sent, writeBuffered, maxLagBytes, reason) => {
    const verdict = lagVerdict({ sent, ring, writeBuffered, maxLagBytes });
    expect(verdict?.reason ?? null).toBe(reason);
  });

  it('says what to do in its message', () => {
    expect(lagVerdict({ sent: 100, ring, writeBuffered: 0, maxLagBytes: 10 })?.message).toBe(
      'subscriber at entry 100 has 10000 bytes waiting, over the limit of 10; resync by snapshot',
    );
  });
});

describe('rankSources()', () => {
  const members = ['m1', 'm2', 'm3', 'm4', 'm5'];

  it('puts the leader last and never ranks the observer itself', () => {
    const ranked = rankSources('m3', members, 'm1');
    expect(ranked).toHaveLength(4);
    expect(ranked.at(-1)).toBe('m1');
    expect(ranked).not.toContain('m3');
  });

  it('is stable for one observer whatever the order of the members', () => {
    expect(rankSources('obs', members, null)).toEqual(rankSources('obs', [...members].reverse(), null));
  });

  it('spreads 1,000 observers roughly evenly over 5 members', () => {
    const load = new Map<string, number>();
    for (let i = 0; i < 1_000; i++) {
      const first = rankSources(`observer-${i}`, members, null)[0]!;
      load.set(first, (load.get(first) ?? 0) + 1);
    }
    expect(load.size).toBe(5);
    for (const count of load.values()) expect(count).toBeGreaterThan(140);
  });

  it('moves only the observers of a member that leaves', () => {
    const before = new Map<string, string>();
    for (let i = 0; i < 500; i++) before.set(`o${i}`, rankSources(`o${i}`, members, null)[0]!);
    let moved = 0;
    for (const [obs, first] of before) {
      const now = rankSources(obs, members.slice(0, 4), null)[0]!;
      if (now !== first) {
        moved++;
        expect(first).toBe('m5');
      }
    }
    expect(moved).toBe([...before.values()].filter((m) => m === 'm5').length);
  });
});

describe('chooseSource()', () => {
  const base = { self: 'obs', members: ['a', 'b', 'c'], leader: 'a', now: 10_000, retryAfterMs: 5_000 };

  it('takes the best-ranked member that has not failed recently', () => {
    const [first, second] = rankSources('obs', base.members, 'a');
    expect(chooseSource({ ...base, failedAt: new Map() })).toBe(first);
    expect(chooseSource({ ...base, failedAt: new Map([[first!, 9_000]]) })).toBe(second);
    expect(chooseSource({ ...base, failedAt: new Map([[first!, 4_000]]) })).toBe(first);
  });

  it('falls back to the member that failed longest ago when all failed recently', () => {
    const failedAt = new Map([
      ['a', 9_000],
      ['b', 8_000],
      ['c', 9_500],
    ]);
    expect(chooseSource({ ...base, failedAt })).toBe('b');
  });

  it('returns null with no members but itself', () => {
    expect(chooseSource({ ...base, members: ['obs'], failedAt: new Map() })).toBeNull();
  });
});
