/**
 * LiveFeed (src/ui/web/live.ts): the UI follows the event stream, polls while there is none, and
 * shows each event once across reconnects. Driven with a scripted stream and manual timers.
 */
import { LiveFeed, type LiveMode, type Timers, type UiEvent } from '../../src/ui/web/live.js';

/** Timers fired by hand, in order of their due time. */
class ManualTimers implements Timers {
  now = 0;
  #next = 0;
  readonly #due = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    this.#due.set(++this.#next, { at: this.now + ms, fn });
    return this.#next;
  }
  clearTimeout(handle: unknown): void {
    this.#due.delete(handle as number);
  }
  /** Move time on, firing what falls due. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      const next = [...this.#due].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      this.#due.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
      await settle();
    }
    this.now = end;
    await settle();
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

const event = (index: number, sub = 0): UiEvent => ({
  index,
  sub,
  time: 1_700_000_000_000 + index,
  type: 'service',
  action: 'scaled',
  name: 'web_api',
  message: `event ${index}.${sub}`,
});

/** One scripted answer of the stream: fail at once, or open and send events then end. */
type Script = { fail: string } | { events: UiEvent[] };

function feedWith(scripts: Script[]) {
  const timers = new ManualTimers();
  const asked: number[] = [];
  const seen: string[] = [];
  const modes: string[] = [];
  let polls = 0;
  const feed = new LiveFeed({
    async stream(index, handlers) {
      asked.push(index);
      const script = scripts.shift() ?? { fail: 'no more scripts' };
      if ('fail' in script) throw new Error(script.fail);
      handlers.onOpen();
      for (const e of script.events) handlers.onEvent(e);
    },
    onEvent: (e) => seen.push(`${e.index}.${e.sub}`),
    onMode: (mode: LiveMode) => modes.push(mode.kind === 'polling' ? `polling: ${mode.reason}` : mode.kind),
    poll: () => polls++,
    timers,
    pollMs: 3_000,
    retryMs: 10_000,
  });
  return { feed, timers, asked, seen, modes, polls: () => polls };
}

describe('LiveFeed', () => {
  it('polls every pollMs while the stream is missing, and tries it again every retryMs', async () => {
    const { feed, timers, modes, polls, asked } = feedWith([
      { fail: 'HTTP 404: no such endpoint' },
      { fail: 'HTTP 404' },
    ]);
    feed.start();
    await settle();
    expect(modes).toEqual(['connecting', 'polling: HTTP 404: no such endpoint']);
    await timers.advance(9_000);
    expect(polls()).toBe(3);
    expect(asked).toEqual([0]);
    await timers.advance(1_000);
    expect(asked).toEqual([0, 0]);
    feed.stop();
  });

  it('stops polling once the stream answers, refreshes once for what it missed, and delivers events', async () => {
    const { feed, timers, modes, polls, seen } = feedWith([
      { fail: 'refused' },
      { events: [event(5), event(5, 1), event(7)] },
    ]);
    feed.start();
    await settle();
    await timers.advance(10_000); // 3 polls, then the retry opens the stream
    expect(modes.at(-2)).toBe('live');
    expect(seen).toEqual(['5.0', '5.1', '7.0']);
    expect(polls()).toBe(3 + 1);
    feed.stop();
  });

  it('resumes from the last index seen and shows nothing twice (several events share an index)', async () => {
    const { feed, timers, asked, seen } = feedWith([
      { events: [event(3), event(4), event(4, 1)] },
      // the agent sends index 4 and after again: 4.0 and 4.1 are old, 4.2 and 6 are new
      { events: [event(4), event(4, 1), event(4, 2), event(6)] },
    ]);
    feed.start();
    await settle();
    await timers.advance(10_000);
    expect(asked).toEqual([0, 4]);
    expect(seen).toEqual(['3.0', '4.0', '4.1', '4.2', '6.0']);
    expect(feed.lastIndex).toBe(6);
    feed.stop();
  });

  it('stop() ends polling and retries', async () => {
    const { feed, timers, asked, polls } = feedWith([{ fail: 'down' }]);
    feed.start();
    await settle();
    feed.stop();
    await timers.advance(60_000);
    expect([asked.length, polls()]).toEqual([1, 0]);
  });
});
