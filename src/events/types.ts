/**
 * The cluster's events: what a person would want to know happened (a node went down, a task
 * failed and why, a stack was deployed, a job ended). The shapes here are the wire contract of
 * `GET /v1/events` (one JSON object per line) and of `shoal events -o json`; the web UI reads
 * them too, so fields are only ever added.
 * @module
 */

/** What an event is about. `leader` events are local observations of the agent that answers. */
export type EventType = 'cluster' | 'node' | 'leader' | 'stack' | 'service' | 'task' | 'job' | 'secret' | 'config';

/** Every type, for validating filters. */
export const EVENT_TYPES: readonly EventType[] = [
  'cluster',
  'node',
  'leader',
  'stack',
  'service',
  'task',
  'job',
  'secret',
  'config',
];

/**
 * One event. Events derived from the replicated log are the same on every agent: `index` is the
 * Raft log index of the command they come from, `sub` their position among that command's events,
 * `time` the leader's clock when it proposed the command.
 */
export interface ClusterEvent {
  readonly index: number;
  readonly sub: number;
  /** ms since epoch. */
  readonly time: number;
  readonly type: EventType;
  /** What happened, one word: `down`, `deployed`, `scaled`, `failed`, `ended`... */
  readonly action: string;
  /** Who it happened to: a node's hostname, a stack, a service id (`web_api`), a task (`web_api.2`), a job id. */
  readonly name: string;
  /** One line a person reads, with the reason when there is one. */
  readonly message: string;
  /** True for an observation of the answering agent alone (a leader change), not derived from the log. */
  readonly local?: true;
  /** What the event belongs to, for filters and links; present when it applies. */
  readonly node?: string;
  readonly stack?: string;
  readonly service?: string;
  readonly task?: string;
  readonly job?: string;
  /** Task or job states: before and after the change. */
  readonly from?: string;
  readonly to?: string;
  readonly exitCode?: number | null;
  /** A task event that tells of this many tasks of one service making the same change at once. */
  readonly count?: number;
  /** A job's time in the queue before it started, ms. */
  readonly queuedMs?: number;
}

/** An event as a deriver makes it: the recorder numbers and stamps it. */
export type EventDraft = Omit<ClusterEvent, 'index' | 'sub' | 'time' | 'local'>;

/**
 * A line about the stream itself, never an event: `dropped` (first line: the events asked for
 * are no longer kept here), `lagged` (last line: the client read too slowly and fell out of the
 * window; resume from `resume`). It has no `index`, which tells it apart from an event.
 */
export interface StreamNotice {
  readonly type: 'stream';
  readonly action: 'dropped' | 'lagged';
  readonly time: number;
  readonly message: string;
  /** The first index this agent can still send; resume from here. */
  readonly resume: number;
}

/** A line of `GET /v1/events`. */
export type EventLine = ClusterEvent | StreamNotice;

/** What `GET /v1/events` takes. */
export interface EventQuery {
  /** Events at this log index and after (0, the default: everything this agent still holds). */
  readonly index?: number;
  /** Events at this time (ms since epoch) and after. */
  readonly since?: number;
  /** Keep the stream open and send new events as they happen. */
  readonly follow?: boolean;
  /** Only these types (any of them). */
  readonly types?: readonly EventType[];
  /** Only events whose name, node, stack, service, task or job is one of these. */
  readonly names?: readonly string[];
}
