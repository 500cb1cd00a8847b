import {
  EventWindow,
  streamEvents,
  type ClusterEvent,
  type EventLine,
  type EventQuery,
} from '../../src/events/index.js';

function event(index: number, sub = 0, extra: Partial<ClusterEvent> = {}): ClusterEvent {
  return {
    index,
    sub,
    time: 1000 + index,
    type: 'task',
    action: 'running',
    name: `web_api.${index}`,
    message: 'm',
    ...extra,
  };
}

async function collect(window: EventWindow, query: EventQuery): Promise<EventLine[]> {
  const out: EventLine[] = [];
  for await (const line of streamEvents(window, query, { now: () => 0 })) out.push(line);
  return out;
}

const indexes = (lines: readonly EventLine[]) => lines.map((l) => ('index' in l ? `${l.index}.${l.sub}` : l.action));

describe('EventWindow', () => {
  it('keeps at most maxEvents, dropping the oldest, and knows from where it is complete', () => {
    const window = new EventWindow({ maxEvents: 3 });
    for (const i of [1, 2, 3, 4, 5]) window.append(event(i));
    expect(window.size).toBe(3);
    expect(window.get(window.firstSeq)?.index).toBe(3);
    expect(window.completeFrom).toBe(3);
  });

  it('keeps at most maxBytes of events', () => {
    const window = new EventWindow({ maxBytes: 2048 });
    for (let i = 1; i <= 100; i++) window.append(event(i, 0, { message: 'x'.repeat(200) }));
    expect(window.bytes).toBeLessThanOrEqual(2048);
    expect(window.size).toBeGreaterThan(1);
    expect(window.last()?.index).toBe(100);
  });

  it('refuses events out of log order', () => {
    const window = new EventWindow();
    window.append(event(5, 1));
    expect(() => window.append(event(5, 1))).toThrow(/log order/);
    expect(() => window.append(event(4, 0))).toThrow(/log order/);
  });

  it('numbers a local observation after the events of its index', () => {
    const window = new EventWindow();
    window.append(event(7, 0));
    window.append(event(7, 1));
    const local = window.appendLocal(
      { type: 'leader', action: 'elected', name: 'beta', message: 'beta is the leader' },
      5,
      7,
    );
    expect(local).toMatchObject({ index: 7, sub: 2, local: true });
  });
});

describe('streamEvents()', () => {
  it('resumes from an index, filtered by type and name', async () => {
    const window = new EventWindow();
    for (const i of [1, 2, 3]) window.append(event(i));
    window.append(event(3, 1, { type: 'service', name: 'web_api', service: 'web_api' }));
    window.append(event(4, 0, { type: 'node', name: 'beta' }));
    expect(indexes(await collect(window, { index: 3 }))).toEqual(['3.0', '3.1', '4.0']);
    expect(indexes(await collect(window, { types: ['service', 'node'] }))).toEqual(['3.1', '4.0']);
    expect(indexes(await collect(window, { names: ['web_api'] }))).toEqual(['3.1']);
    expect(indexes(await collect(window, { since: 1003 }))).toEqual(['3.0', '3.1', '4.0']);
  });

  it('says first when the events asked for are no longer kept', async () => {
    const window = new EventWindow({ maxEvents: 2 });
    for (const i of [1, 2, 3, 4]) window.append(event(i));
    const lines = await collect(window, { index: 1 });
    expect(indexes(lines)).toEqual(['dropped', '3.0', '4.0']);
    expect(lines[0]).toMatchObject({ type: 'stream', resume: 3 });
    expect((lines[0] as { message: string }).message).toMatch(/events from index 1 to 2 are no longer kept/);
  });

  it('follows: a new event reaches a waiting reader', async () => {
    const window = new EventWindow();
    window.append(event(1));
    const controller = new AbortController();
    const stream = streamEvents(window, { follow: true }, { signal: controller.signal });
    expect((await stream.next()).value).toMatchObject({ index: 1 });
    const next = stream.next();
    window.append(event(2));
    expect((await next).value).toMatchObject({ index: 2 });
    const ended = stream.next();
    controller.abort();
    expect((await ended).done).toBe(true);
  });

  it('ends a reader that fell out of the window with a last line saying so', async () => {
    const window = new EventWindow({ maxEvents: 3 });
    for (const i of [1, 2, 3]) window.append(event(i));
    const stream = streamEvents(window, { follow: true }, { now: () => 0 });
    expect((await stream.next()).value).toMatchObject({ index: 1 });
    // the client stops reading while ten more events happen
    for (let i = 4; i <= 13; i++) window.append(event(i));
    const last = (await stream.next()).value as EventLine;
    expect(last).toMatchObject({ type: 'stream', action: 'lagged', resume: 11 });
    expect((await stream.next()).done).toBe(true);
  });

  it('lets other work run during a long catch-up', async () => {
    const window = new EventWindow({ maxEvents: 5000 });
    for (let i = 1; i <= 2000; i++) window.append(event(i));
    // other work queued on the event loop: it runs only if the stream gives the loop a turn
    let turns = 0;
    let done = false;
    const other = (): void => {
      turns++;
      if (!done) setImmediate(other);
    };
    setImmediate(other);
    const lines = await collect(window, {});
    done = true;
    expect(lines).toHaveLength(2000);
    expect(turns).toBeGreaterThan(0);
  });
});
