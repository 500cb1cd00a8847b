/**
 * The leader's image watch (issue 15, `x-shoal.image_update`): every second it asks
 * {@link dueTags} which tags are due, sends one HEAD per tag to the registry, and proposes a
 * `service.update` with the new pinned image for each service {@link decideImageUpdates} says to
 * update: the spec of `shoal service update --image name:tag@sha256:…`, so the rollout controller
 * rolls it out with the service's update_config (health gate, rollback) like any other change.
 *
 * A leader-only part (leader-scope.ts). Its memory (when each tag was last asked, what it said)
 * is lost with the lead: a new leader asks every tag at once. The bad-digest marks are not in
 * that memory but derived from the replicated history (src/controllers/image-watch.ts).
 *
 * Every step is a log line of the leader's `image-watch` component: a tag that moved, an update
 * proposed, a digest skipped (once per service and digest), a registry that did not answer.
 * The registry is asked with the credentials given at deploy (`--with-registry-auth`) to a service
 * of that repository, opened by the leader (a member, registry-auth.ts), else without any.
 * @module
 */
import type { Logger } from 'pino';
import {
  agreedImageId,
  decideImageUpdates,
  dueTags,
  watchedServices,
  type ImageWatchDecision,
} from '../controllers/image-watch.js';
import type { Clock, TimerHandle } from '../raft/driver/index.js';
import type { ImageRef } from '../runtime/image-ref.js';
import { hashService } from '../stack/index.js';
import type { ImageUpdateSpec } from '../stack/spec.js';
import type { ClusterStateMachine, CommandInput } from '../state/index.js';
import { updatedSpec } from './rollout-api.js';

const TICK_MS = 1_000;

export interface ImageWatchLoopDeps {
  readonly state: Pick<ClusterStateMachine, 'services' | 'service'>;
  /** The cluster's writer (writes.ts `CommandWriter.submit`). */
  readonly writer: {
    submit(command: CommandInput, options: { deadlineMs?: number; signal?: AbortSignal }): Promise<unknown>;
  };
  /** The tag's digest from its registry (registry-digest.ts `registryDigest`: one HEAD). */
  readonly digest: (ref: ImageRef, signal: AbortSignal) => Promise<string>;
  /**
   * `policy: local`: the image id each node running these services has for the tag (null: none);
   * without it such tags are not checked (no engine to ask: a fake driver).
   */
  readonly localImageIds?: (
    ref: ImageRef,
    serviceIds: readonly string[],
    signal: AbortSignal,
  ) => Promise<ReadonlyMap<string, string | null>>;
  /** The cluster default for services without `x-shoal.image_update` (`--image-update-ms`); none by default. */
  readonly clusterDefault?: ImageUpdateSpec | null;
  readonly clock: Clock;
  readonly log: Logger;
}

export class ImageWatchLoop {
  readonly #deps: ImageWatchLoopDeps;
  /** Per tag: when it was last asked (answered or not), and the digest last heard. */
  readonly #checkedAt = new Map<string, number>();
  readonly #heard = new Map<string, string>();
  /** Per service: the digest last skipped, so a skip is logged once, not every interval. */
  readonly #skipped = new Map<string, string>();
  /** Per `policy: local` tag: the node reports last logged as a disagreement. */
  readonly #disagreed = new Map<string, string>();
  #timer: TimerHandle | null = null;
  #abort: AbortController | null = null;
  #passing = false;

  constructor(deps: ImageWatchLoopDeps) {
    this.#deps = deps;
  }

  get running(): boolean {
    return this.#timer !== null;
  }

  start(): void {
    if (this.#timer) return;
    this.#abort = new AbortController();
    this.#timer = this.#deps.clock.setInterval(() => void this.pass(), TICK_MS);
  }

  stop(): void {
    if (this.#timer) this.#deps.clock.clearInterval(this.#timer);
    this.#timer = null;
    this.#abort?.abort();
    this.#abort = null;
    this.#checkedAt.clear();
    this.#heard.clear();
    this.#skipped.clear();
    this.#disagreed.clear();
  }

  /**
   * One pass: ask the due tags, decide, propose. Returns what it decided (for tests); a pass
   * while another runs does nothing.
   */
  async pass(): Promise<ImageWatchDecision[]> {
    if (this.#passing) return [];
    this.#passing = true;
    try {
      return await this.#pass(this.#abort?.signal ?? AbortSignal.abort());
    } finally {
      this.#passing = false;
    }
  }

  async #pass(signal: AbortSignal): Promise<ImageWatchDecision[]> {
    const now = this.#deps.clock.now();
    const watched = watchedServices(this.#deps.state.services(), this.#deps.clusterDefault);
    const due = dueTags(watched, this.#checkedAt, now);
    if (due.length === 0 || signal.aborted) return [];
    const refs = new Map(watched.map((w) => [w.tag, w.ref]));
    const digests = new Map<string, string>();
    await Promise.all(
      due.map(async (tag) => {
        this.#checkedAt.set(tag, now); // a registry that fails is asked again after an interval
        try {
          const local = watched.filter((w) => w.tag === tag && w.policy === 'local');
          const digest =
            local.length === 0
              ? await this.#deps.digest(refs.get(tag)!, signal)
              : await this.#localId(
                  tag,
                  refs.get(tag)!,
                  local.map((w) => w.id),
                  signal,
                );
          if (digest !== null) digests.set(tag, digest);
        } catch (error) {
          if (!signal.aborted) this.#deps.log.warn({ tag, err: error }, `image watch: cannot check ${tag}`);
        }
      }),
    );
    if (signal.aborted) return [];
    for (const [tag, digest] of digests) {
      const before = this.#heard.get(tag);
      if (before !== undefined && before !== digest)
        this.#deps.log.info({ tag, from: before, to: digest }, `image watch: ${tag} moved to ${digest}`);
      this.#heard.set(tag, digest);
    }
    // Decide on the state as it is now: it may have changed while the registry answered.
    const decisions = decideImageUpdates(
      watchedServices(this.#deps.state.services(), this.#deps.clusterDefault),
      digests,
    );
    for (const decision of decisions) await this.#act(decision, signal);
    return decisions;
  }

  /** `policy: local`: the id the nodes agree on, else null (logged once per disagreement). */
  async #localId(tag: string, ref: ImageRef, serviceIds: string[], signal: AbortSignal): Promise<string | null> {
    if (this.#deps.localImageIds === undefined) return null;
    const reports = await this.#deps.localImageIds(ref, serviceIds, signal);
    const agreed = agreedImageId(reports);
    const seen = JSON.stringify([...reports].sort());
    if (agreed === null && this.#disagreed.get(tag) !== seen) {
      this.#disagreed.set(tag, seen);
      this.#deps.log.info(
        { tag, nodes: Object.fromEntries(reports) },
        `image watch: the nodes do not agree on ${tag} (missing or different image ids); waiting`,
      );
    }
    if (agreed !== null) this.#disagreed.delete(tag);
    return agreed;
  }

  async #act(decision: ImageWatchDecision, signal: AbortSignal): Promise<void> {
    const { serviceId, tag, to } = decision;
    if (decision.kind === 'skip') {
      if (this.#skipped.get(serviceId) === to) return;
      this.#skipped.set(serviceId, to);
      const why =
        decision.reason === 'bad'
          ? 'a rollout to it failed; waiting for the tag to move on'
          : 'its rollout is in progress; deciding again at the next check';
      this.#deps.log.info(
        { service: serviceId, tag, digest: to, reason: decision.reason },
        `image watch: not updating ${serviceId} to ${to}: ${why}`,
      );
      return;
    }
    this.#skipped.delete(serviceId);
    const service = this.#deps.state.service(serviceId);
    if (service === undefined) return;
    try {
      const spec = updatedSpec(service, { image: decision.image });
      await this.#deps.writer.submit(
        {
          type: 'service.update',
          serviceId,
          spec,
          specHash: hashService(spec),
          force: false,
          ifVersion: service.version,
          reason: `image watch: ${tag} moved to ${to}`,
        },
        { deadlineMs: 5_000, signal },
      );
      this.#deps.log.info(
        { service: serviceId, tag, from: decision.from, to, image: decision.image },
        `image watch: updating ${serviceId} to ${decision.image}`,
      );
    } catch (error) {
      // Refused or not committed: the tag is asked again after its interval and this decided again.
      if (!signal.aborted)
        this.#deps.log.warn({ service: serviceId, tag, to, err: error }, `image watch: cannot update ${serviceId}`);
    }
  }
}
