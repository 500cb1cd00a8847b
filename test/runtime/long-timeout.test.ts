/** setLongTimeout(): timers past Node's 2^31-1 ms limit, on a manual clock and on Jest's fake timers. */
import { jest } from '@jest/globals';
import { MAX_TIMER_DELAY_MS, setLongTimeout } from '../../src/runtime/long-timeout.js';
import { ManualClock } from './memory-driver.js';

const DAY = 86_400_000;

/** A manual clock that remembers every delay it was asked for. */
class RecordingClock extends ManualClock {
  readonly delays: number[] = [];
  override setTimeout(fn: () => void, ms: number) {
    this.delays.push(ms);
    return super.setTimeout(fn, ms);
  }
}

describe('setLongTimeout()', () => {
  it('setLongTimeout() never asks for more than 2^31-1 ms and fires once, at the deadline', () => {
    const clock = new RecordingClock();
    let fired = 0;
    setLongTimeout(() => fired++, 30 * DAY, clock);
    for (let day = 1; day < 30; day++) {
      clock.advance(DAY);
      expect(fired).toBe(0);
    }
    clock.advance(DAY - 1);
    expect(fired).toBe(0);
    clock.advance(1);
    expect(fired).toBe(1);
    clock.advance(60 * DAY);
    expect(fired).toBe(1);
    expect(Math.max(...clock.delays)).toBeLessThanOrEqual(MAX_TIMER_DELAY_MS);
    expect(clock.delays).toEqual([MAX_TIMER_DELAY_MS, 5 * DAY]); // re-armed from day 25, when the chunk fired
  });

  it.each([
    ['a short delay', 250, [250]],
    ['a negative delay (now)', -5, [0]],
    ['exactly the limit', MAX_TIMER_DELAY_MS, [MAX_TIMER_DELAY_MS]],
    ['Infinity (never)', Number.POSITIVE_INFINITY, []],
  ])('setLongTimeout() with %s arms %j', (_, ms, delays) => {
    const clock = new RecordingClock();
    setLongTimeout(() => {}, ms, clock);
    expect(clock.delays).toEqual(delays);
  });

  it('setLongTimeout() clear() cancels it before and after a re-arm', () => {
    const clock = new RecordingClock();
    let fired = 0;
    const early = setLongTimeout(() => fired++, 40 * DAY, clock);
    early.clear();
    const late = setLongTimeout(() => fired++, 40 * DAY, clock);
    clock.advance(30 * DAY); // past the first chunk: re-armed
    late.clear();
    late.clear();
    clock.advance(30 * DAY);
    expect(fired).toBe(0);
  });

  it('setLongTimeout() refuses NaN', () => {
    expect(() => setLongTimeout(() => {}, Number.NaN)).toThrow(/NaN/);
  });

  describe('on Node timers', () => {
    beforeEach(() => jest.useFakeTimers({ now: 0 }));
    afterEach(() => jest.useRealTimers());

    it('setLongTimeout() fires a 30-day timer after 30 days, not after 1 ms', () => {
      let fired = 0;
      setLongTimeout(() => fired++, 30 * DAY);
      jest.advanceTimersByTime(1000);
      expect(fired).toBe(0);
      jest.advanceTimersByTime(30 * DAY - 1001);
      expect(fired).toBe(0);
      jest.advanceTimersByTime(1);
      expect(fired).toBe(1);
    });
  });
});
