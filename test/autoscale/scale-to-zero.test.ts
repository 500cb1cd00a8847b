/**
 * Scale to zero's pure half with virtual time: when a `min: 0` service goes to zero, what the
 * leader remembers of the nodes' connection reports, the single flight that makes many held
 * connections one wake, and the frames' checks.
 */
import { describe, expect, it } from '@jest/globals';
import {
  ActivityBook,
  idleDecision,
  MESH_REPORT_STALE_MS,
  parseActivityFrame,
  parseWakeRequest,
  SingleFlight,
} from '../../src/autoscale/index.js';

const IDLE = 300_000;
const policy = { min: 0, idleMs: IDLE };

describe('idleDecision()', () => {
  const at = (over: Partial<Parameters<typeof idleDecision>[0]> = {}) =>
    idleDecision({ now: 1_000_000, policy, current: 2, lastActivityAt: 1_000_000, meshReporting: true, ...over });

  it('scales to zero once idle for the whole idle time, not a millisecond before', () => {
    expect(at({ lastActivityAt: 1_000_000 - IDLE + 1 })).toBeNull();
    expect(at({ lastActivityAt: 1_000_000 - IDLE })).toEqual({
      replicas: 0,
      reason: 'idle: no connection through the service mesh for 5 min → 0',
    });
  });

  it('holds a service at zero (only a wake takes it up) and leaves others to the HPA', () => {
    expect(at({ current: 0 })).toEqual({ replicas: 0, reason: 'scaled to zero: the next connection wakes it' });
    expect(at({ policy: { min: 1, idleMs: IDLE }, lastActivityAt: 0 })).toBeNull();
  });

  it('never scales to zero when no node reports its mesh: nobody could wake it', () => {
    expect(at({ lastActivityAt: 0, meshReporting: false })).toBeNull();
  });
});

describe('ActivityBook', () => {
  it('starts a service seen for the first time as active now (a new leader waits a whole idle)', () => {
    const book = new ActivityBook();
    expect(book.lastActivity('web', 5_000)).toBe(5_000);
    expect(book.lastActivity('web', 9_000)).toBe(5_000);
  });

  it("stamps reports with the leader's clock: open connections are activity now, else now minus the age", () => {
    const book = new ActivityBook();
    book.report('n1', 100_000, [
      { serviceId: 'web', open: 0, lastAcceptAgoMs: 30_000 },
      { serviceId: 'api', open: 2, lastAcceptAgoMs: 90_000 },
      { serviceId: 'db', open: 0, lastAcceptAgoMs: null },
    ]);
    expect(book.lastActivity('web', 100_000)).toBe(70_000);
    expect(book.lastActivity('api', 100_000)).toBe(100_000);
    // An older report from another node never moves the last activity back.
    book.report('n2', 101_000, [{ serviceId: 'web', open: 0, lastAcceptAgoMs: 60_000 }]);
    expect(book.lastActivity('web', 101_000)).toBe(70_000);
  });

  it('knows whether any node reported lately', () => {
    const book = new ActivityBook();
    expect(book.meshReporting(0)).toBe(false);
    book.report('n1', 10_000, []);
    expect(book.meshReporting(10_000 + MESH_REPORT_STALE_MS)).toBe(true);
    expect(book.meshReporting(10_001 + MESH_REPORT_STALE_MS)).toBe(false);
  });

  it('goes from busy to zero only after idle passes with no report of a connection (virtual time)', () => {
    const book = new ActivityBook();
    let replicas = 1;
    const decisions: number[] = [];
    // 10 minutes in 2 s reports; connections stop at 60 s.
    for (let now = 0; now <= 600_000; now += 2_000) {
      book.report('n1', now, [{ serviceId: 'web', open: now < 60_000 ? 1 : 0, lastAcceptAgoMs: null }]);
      const d = idleDecision({
        now,
        policy,
        current: replicas,
        lastActivityAt: book.lastActivity('web', now),
        meshReporting: book.meshReporting(now),
      });
      if (d !== null && d.replicas !== replicas) {
        decisions.push(now);
        replicas = d.replicas;
      }
    }
    expect(decisions).toEqual([58_000 + IDLE]);
    expect(replicas).toBe(0);
  });
});

describe('SingleFlight', () => {
  it('runs one call per key however many ask while it runs, then a new one', async () => {
    const flight = new SingleFlight<string, number>();
    let calls = 0;
    let release: (v: number) => void = () => undefined;
    const call = () => {
      calls++;
      return new Promise<number>((resolve) => (release = resolve));
    };
    const waiting = Array.from({ length: 100 }, () => flight.run('web', call));
    const other = flight.run('api', () => Promise.resolve(7));
    expect(flight.has('web')).toBe(true);
    release(1);
    await expect(Promise.all(waiting)).resolves.toEqual(Array(100).fill(1));
    await expect(other).resolves.toBe(7);
    expect(calls).toBe(1);
    expect(flight.has('web')).toBe(false);
    const again = flight.run('web', call);
    expect(calls).toBe(2); // done: the next caller starts a new call
    release(2);
    await expect(again).resolves.toBe(2);
  });

  it('shares a failure too, and lets the next caller try again', async () => {
    const flight = new SingleFlight<string, number>();
    let calls = 0;
    const failing = () => {
      calls++;
      return Promise.reject(new Error('no leader'));
    };
    const both = [flight.run('web', failing), flight.run('web', failing)];
    await expect(Promise.all(both)).rejects.toThrow('no leader');
    expect(calls).toBe(1);
    await expect(flight.run('web', () => Promise.resolve(1))).resolves.toBe(1);
  });
});

describe('activity and wake frames', () => {
  it('accepts well-formed frames', () => {
    expect(parseActivityFrame({ v: 1, services: [{ serviceId: 'shop_web', open: 1, lastAcceptAgoMs: 5 }] })).toEqual({
      v: 1,
      services: [{ serviceId: 'shop_web', open: 1, lastAcceptAgoMs: 5 }],
    });
    expect(parseWakeRequest({ v: 1, serviceId: 'shop_web' })).toEqual({ v: 1, serviceId: 'shop_web' });
  });

  it.each([
    [{ v: 2, services: [] }, /autoscale.activity: v: expected format version 1/],
    [{ v: 1, services: [{ serviceId: 'w', open: -1, lastAcceptAgoMs: null }] }, /services\[0\].open: expected a count/],
    [{ v: 1, services: [{ serviceId: 'w', open: 0, lastAcceptAgoMs: 'x' }] }, /lastAcceptAgoMs: expected null or/],
    [{ v: 1, services: [{ serviceId: '../x', open: 0, lastAcceptAgoMs: null }] }, /serviceId: expected a service id/],
  ])('refuses %j', (frame, message) => {
    expect(() => parseActivityFrame(frame)).toThrow(message);
  });

  it('refuses a wake without a service', () => {
    expect(() => parseWakeRequest({ v: 1 })).toThrow(/autoscale.wake: serviceId: expected a service id/);
  });
});
