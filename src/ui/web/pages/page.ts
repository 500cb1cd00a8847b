/**
 * What a page is to the shell (main.ts): an element, and a refresh that fetches what it shows
 * and draws it again. The shell calls refresh when the page opens, on events, and while polling.
 * @module
 */
import type { Api, Query } from '../api.js';
import type { EventLog } from '../event-log.js';
import type { UiRoute } from '../routes.js';

export interface Page {
  readonly title: string;
  readonly element: HTMLElement;
  /** Fetch and draw; resolves with the number of table rows drawn (for the render log). */
  refresh(): Promise<number>;
  /** Whether events and polling should refresh it (a log page follows its own stream). */
  readonly live: boolean;
  dispose?(): void;
}

export interface PageContext {
  readonly api: Api;
  readonly events: EventLog;
  /**
   * A read, confirmed with the cluster's quorum; when there is none (503), this agent's local
   * copy, and the shell says the page may be stale.
   */
  read<T>(path: string, query?: Query): Promise<T>;
  /** Refresh the open page now (after an action). */
  refresh(): void;
  now(): number;
}

export type PageFactory = (ctx: PageContext, route: UiRoute) => Page;
