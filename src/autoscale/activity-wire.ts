/**
 * The frames of scale to zero and of the `rps` target between a node's mesh and the leader,
 * checked at the edge: `autoscale.activity` (each node's connections and requests per service,
 * every few seconds, with `--mesh`) and `autoscale.wake` (a connection is held for a service at
 * zero).
 *
 * @module
 */
import { InvalidStatsFrameError } from './stats-wire.js';
import type { ServiceActivity } from './scale-to-zero.js';

export const ACTIVITY_METHOD = 'autoscale.activity';
export const WAKE_METHOD = 'autoscale.wake';
/** Services in one activity frame. */
export const MAX_SERVICES_PER_FRAME = 4_096;
const SERVICE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;
const MAX_AGO_MS = 10 * 365 * 24 * 3600 * 1000;

export interface ActivityFrame {
  readonly v: 1;
  readonly services: readonly ServiceActivity[];
}

export interface WakeRequest {
  readonly v: 1;
  readonly serviceId: string;
}

/** What the leader answers a wake: the service's replicas once the wake is committed (or already). */
export interface WakeReceipt {
  readonly replicas: number;
}

function bad(method: string, path: string, detail: string): never {
  throw new InvalidStatsFrameError(`${method}: ${path}: ${detail}`);
}

function record(payload: unknown, method: string): Record<string, unknown> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
    bad(method, '(root)', 'expected an object');
  const frame = payload as Record<string, unknown>;
  if (frame.v !== 1) bad(method, 'v', `expected format version 1, got ${String(frame.v)}`);
  return frame;
}

function serviceId(v: unknown, method: string, path: string): string {
  if (typeof v !== 'string' || !SERVICE_ID.test(v)) bad(method, path, 'expected a service id');
  return v;
}

/** @throws {InvalidStatsFrameError} naming the first field that is wrong. */
export function parseActivityFrame(payload: unknown): ActivityFrame {
  const services = record(payload, ACTIVITY_METHOD).services;
  if (!Array.isArray(services)) bad(ACTIVITY_METHOD, 'services', 'expected a list');
  if (services.length > MAX_SERVICES_PER_FRAME)
    bad(ACTIVITY_METHOD, 'services', `expected at most ${MAX_SERVICES_PER_FRAME} entries, got ${services.length}`);
  return {
    v: 1,
    services: services.map((s: unknown, i): ServiceActivity => {
      const path = `services[${i}]`;
      if (typeof s !== 'object' || s === null) bad(ACTIVITY_METHOD, path, 'expected an object');
      const { serviceId: id, open, lastAcceptAgoMs: ago, requests } = s as Record<string, unknown>;
      if (typeof open !== 'number' || !Number.isInteger(open) || open < 0 || open > 1e9)
        bad(ACTIVITY_METHOD, `${path}.open`, 'expected a count');
      if (ago !== null && (typeof ago !== 'number' || !Number.isFinite(ago) || ago < 0 || ago > MAX_AGO_MS))
        bad(ACTIVITY_METHOD, `${path}.lastAcceptAgoMs`, 'expected null or a duration in ms');
      // Optional: an agent from before the rps target does not send it.
      if (requests !== undefined && (typeof requests !== 'number' || !Number.isSafeInteger(requests) || requests < 0))
        bad(ACTIVITY_METHOD, `${path}.requests`, `expected a count (an integer >= 0), got ${String(requests)}`);
      return {
        serviceId: serviceId(id, ACTIVITY_METHOD, `${path}.serviceId`),
        open,
        lastAcceptAgoMs: ago,
        ...(requests === undefined ? {} : { requests }),
      };
    }),
  };
}

/** @throws {InvalidStatsFrameError} naming the field that is wrong. */
export function parseWakeRequest(payload: unknown): WakeRequest {
  const frame = record(payload, WAKE_METHOD);
  return { v: 1, serviceId: serviceId(frame.serviceId, WAKE_METHOD, 'serviceId') };
}
