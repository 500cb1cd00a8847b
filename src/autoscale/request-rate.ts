/**
 * Requests per second through a service's address, the leader's pure half of the `rps` target
 * (issue 16): each node's mesh proxy counts requests per service (a cumulative count,
 * src/mesh/request-count.ts) and reports it every few seconds (`autoscale.activity`); this turns
 * the counts of every node into one rate per service. Leader memory, never Raft entries; no clock:
 * `now` is the leader's clock, which stamps every report (nodes' clocks never compare).
 *
 * As Prometheus' `rate()`: a count lower than the last one is a reset (the agent restarted; the
 * new count is all new requests), and a count seen for the first time is only a baseline (two
 * reports make a rate). A node that stops reporting drops out after `staleMs`; a fresh node that
 * does not name the service saw none of its requests (it counts 0).
 *
 * @module
 */
import type { ServiceActivity } from './scale-to-zero.js';

export interface RequestRatesOptions {
  /** A node whose last report is older than this no longer counts. Default 10 s (reports come every 2 s). */
  readonly staleMs?: number;
  /** Reports kept per node, and counts per node and service. Default 64. */
  readonly maxReports?: number;
  /** Reports older than this are forgotten. Default 5 min. */
  readonly maxAgeMs?: number;
}

/** A service's rate over a window. */
export interface RequestRate {
  /** Requests per second, summed over the nodes. */
  readonly perSecond: number;
  /** Nodes whose reports made it (fresh, with two reports at least). */
  readonly nodes: number;
}

interface Point {
  readonly at: number;
  /** Requests since the first sighting, resets folded in. */
  readonly total: number;
}

interface ServiceCount {
  /** The raw count of the last report. */
  last: number;
  readonly points: Point[];
}

interface NodeCounts {
  /** When each report arrived, oldest first. */
  readonly reports: number[];
  readonly services: Map<string, ServiceCount>;
}

/**
 * @example
 * ```ts
 * const rates = new RequestRates();
 * rates.report('n1', 0, [{ serviceId: 'web', open: 0, lastAcceptAgoMs: 10, requests: 100 }]);
 * rates.report('n1', 2_000, [{ serviceId: 'web', open: 0, lastAcceptAgoMs: 10, requests: 300 }]);
 * rates.rate('web', 2_000, 15_000); // { perSecond: 100, nodes: 1 }
 * ```
 */
export class RequestRates {
  readonly #nodes = new Map<string, NodeCounts>();
  readonly #staleMs: number;
  readonly #maxReports: number;
  readonly #maxAgeMs: number;

  constructor(options: RequestRatesOptions = {}) {
    this.#staleMs = options.staleMs ?? 10_000;
    this.#maxReports = options.maxReports ?? 64;
    this.#maxAgeMs = options.maxAgeMs ?? 300_000;
  }

  /** Node `nodeId`'s counts at `now`; services without `requests` (an older agent) are skipped. */
  report(nodeId: string, now: number, services: readonly ServiceActivity[]): void {
    let node = this.#nodes.get(nodeId);
    if (node === undefined) {
      node = { reports: [], services: new Map() };
      this.#nodes.set(nodeId, node);
    }
    if ((node.reports.at(-1) ?? -Infinity) > now) return; // the leader's clock does not go back
    node.reports.push(now);
    this.#trim(node.reports, now, (t) => t);
    for (const s of services) {
      if (s.requests === undefined) continue;
      const count = node.services.get(s.serviceId);
      if (count === undefined) {
        node.services.set(s.serviceId, { last: s.requests, points: [{ at: now, total: 0 }] });
        continue;
      }
      // Lower than last time: the counter restarted from 0 (a restarted agent, a forgotten service).
      const delta = s.requests >= count.last ? s.requests - count.last : s.requests;
      count.last = s.requests;
      count.points.push({ at: now, total: count.points.at(-1)!.total + delta });
      this.#trim(count.points, now, (p) => p.at);
    }
  }

  /**
   * The service's requests per second over the last `windowMs` (each fresh node's count from its
   * last report before the window, or its oldest, to its latest); `null` when no fresh node
   * reported twice: no measurement, no opinion. A window shorter than a node's report interval
   * takes its last interval (from the report before its latest), not nothing.
   */
  rate(serviceId: string, now: number, windowMs: number): RequestRate | null {
    let perSecond = 0;
    let nodes = 0;
    for (const node of this.#nodes.values()) {
      const last = node.reports.at(-1);
      if (last === undefined || now - last > this.#staleMs) continue;
      let base = node.reports[0]!;
      for (const t of node.reports) {
        // Its latest is never its own base: a node that last reported before the window still counts.
        if (t > now - windowMs || t >= last) break;
        base = t;
      }
      if (base >= last) continue;
      nodes++;
      const count = node.services.get(serviceId);
      if (count !== undefined) perSecond += ((totalAt(count, last) - totalAt(count, base)) * 1000) / (last - base);
    }
    return nodes === 0 ? null : { perSecond, nodes };
  }

  /** Forget services not in `serviceIds`, nodes silent for `maxAgeMs` and counts not reported for as long. */
  retain(serviceIds: ReadonlySet<string>, now: number): void {
    for (const [nodeId, node] of this.#nodes) {
      if (now - (node.reports.at(-1) ?? -Infinity) > this.#maxAgeMs) {
        this.#nodes.delete(nodeId);
        continue;
      }
      for (const [id, count] of node.services) {
        if (!serviceIds.has(id) || now - count.points.at(-1)!.at > this.#maxAgeMs) node.services.delete(id);
      }
    }
  }

  clear(): void {
    this.#nodes.clear();
  }

  /** Keep at most `maxReports` entries and none older than `maxAgeMs`, but always the newest. */
  #trim<T>(list: T[], now: number, at: (entry: T) => number): void {
    let drop = Math.max(0, list.length - this.#maxReports);
    while (drop < list.length - 1 && now - at(list[drop]!) > this.#maxAgeMs) drop++;
    if (drop > 0) list.splice(0, drop);
  }
}

/** The count at `t`: the last point at or before it, else the first (before it: a baseline). */
function totalAt(count: ServiceCount, t: number): number {
  let total = count.points[0]!.total;
  for (const p of count.points) {
    if (p.at > t) break;
    total = p.total;
  }
  return total;
}
