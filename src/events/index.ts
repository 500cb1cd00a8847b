/** The cluster's events: derived from the replicated log on every agent, kept in a bounded window, streamed. */
export * from './types.js';
export { EventWindow, DEFAULT_MAX_BYTES, DEFAULT_MAX_EVENTS, type EventWindowOptions } from './window.js';
export { streamEvents, eventFilter, type StreamOptions } from './stream.js';
export { EventRecorder, type EventRecorderDeps } from './recorder.js';
export { DERIVERS, deriveEvents, type Deriver } from './derive/index.js';
