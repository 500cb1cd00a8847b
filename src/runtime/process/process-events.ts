/**
 * The process driver's event stream: `die` when a task of this node ends, at once for children
 * of this agent (their end is pushed by the driver), within `adoptPollMs` for tasks adopted after
 * a restart (their supervisor is polled). Each end is told once. Private to the process runtime.
 */
import { LABELS, type ContainerEvent } from '../types.js';
import { EventQueue } from './event-queue.js';
import { supervisorAlive, type ProcessMeta } from './task-dir.js';

export interface ProcessEventSources {
  /** The tasks the driver knows, by id. */
  readonly metas: ReadonlyMap<string, ProcessMeta>;
  /** Tasks whose supervisor this agent started (their end is pushed, not polled). */
  readonly children: { has(id: string): boolean };
  /** Where the driver pushes the events it hears of itself. */
  readonly listeners: Set<(e: ContainerEvent) => void>;
  readonly adoptPollMs: number;
  /** Kill what an ended adopted task left behind (on its recorded exit only). */
  readonly killLeftovers: (meta: ProcessMeta) => void;
}

export async function* processEvents(
  sources: ProcessEventSources,
  nodeId: string,
  signal: AbortSignal,
): AsyncIterable<ContainerEvent> {
  const { metas, children } = sources;
  const queue = new EventQueue<ContainerEvent>();
  const reported = new Set<string>();
  const push = (e: ContainerEvent) => {
    const meta = metas.get(e.containerId);
    if (meta && meta.labels[LABELS.nodeId] !== nodeId) return;
    // Told once: the poll below skips an end we heard of from Node or the launcher.
    if (meta && e.action === 'die') reported.add(`${meta.id}@${meta.startedAt}`);
    queue.push(e);
  };
  const poll = setInterval(() => {
    for (const meta of metas.values()) {
      if (meta.labels[LABELS.nodeId] !== nodeId || meta.startedAt === null || children.has(meta.id)) continue;
      const key = `${meta.id}@${meta.startedAt}`;
      if (reported.has(key) || supervisorAlive(meta)) continue;
      reported.add(key);
      sources.killLeftovers(meta);
      push({ containerId: meta.id, action: 'die' });
    }
  }, sources.adoptPollMs);
  // Processes already ended when we start watching are not news.
  for (const meta of metas.values()) {
    if (supervisorAlive(meta)) continue;
    reported.add(`${meta.id}@${meta.startedAt}`);
    if (!children.has(meta.id)) sources.killLeftovers(meta); // ended while the agent was away
  }
  sources.listeners.add(push);
  try {
    yield* queue.drain(signal);
  } finally {
    clearInterval(poll);
    sources.listeners.delete(push);
  }
}
