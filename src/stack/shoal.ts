/**
 * shoal's own service keys under `x-shoal`: kind (job/cron), priority,
 * strategy, affinity, fair-share namespace/owner, gang, job, cron and
 * autoscale settings.
 *
 * @module
 */
import { ARRAY_LIMITS, cronError, isTimeZone, parseArray } from './batch-syntax.js';
import { join, Reader, show } from './reader.js';
import type {
  AffinitySpec,
  ArraySpec,
  AutoscaleMetricSource,
  AutoscaleSpec,
  CronSpec,
  JobDependencySpec,
  JobSpec,
} from './spec.js';
import type { PMap, PNode } from './tree.js';

const SHOAL_KEYS = [
  'kind',
  'priority',
  'strategy',
  'affinity',
  'anti_affinity',
  'namespace',
  'owner',
  'gang',
  'preemptible',
  'on_disconnect',
  'runtime',
  'job',
  'cron',
  'autoscale',
  'update',
  'rebalance',
  'image_update',
];
const JOB_KEYS = ['completions', 'parallelism', 'retries', 'backoff', 'time_limit', 'array', 'dependencies', 'requeue'];
const CRON_KEYS = [
  'schedule',
  'time_zone',
  'concurrency_policy',
  'missed_runs',
  'starting_deadline',
  'successful_history',
  'failed_history',
  'suspend',
];
const AUTOSCALE_KEYS = [
  'min',
  'max',
  'target_cpu',
  'target_memory',
  'scale_up_cooldown',
  'scale_down_cooldown',
  'scale_up_window',
  'scale_down_window',
  'scale_up_pods',
  'scale_up_percent',
  'scale_down_percent',
  'sync_period',
  'tolerance',
  'target_pending_jobs',
  'metric',
  'target_rps',
  'idle',
  'cold_start_timeout',
  'cold_start_queue',
];
const DEP_TYPES = ['afterok', 'afterany', 'afternotok'] as const;

/** Highest priority; services default to {@link DEFAULT_PRIORITY}.service, batch to .batch. */
export const MAX_PRIORITY = 1000;
/** Services outrank batch by default so that they may preempt it. */
export const DEFAULT_PRIORITY = { service: 500, batch: 100 } as const;

/** What `x-shoal` of a service says (undefined: not given). */
export interface ShoalRead {
  readonly kind: 'service' | 'job' | 'cron' | undefined;
  readonly kindNode: PNode | undefined;
  readonly priority: number | undefined;
  readonly strategy: 'spread' | 'binpack' | undefined;
  readonly affinity: AffinitySpec[];
  /** Affinity entries with their nodes, to check references later. */
  readonly affinityRefs: { service: string; node: PNode; path: string }[];
  readonly namespace: string | undefined;
  readonly owner: string | undefined;
  readonly gang: boolean | undefined;
  readonly preemptible: boolean | undefined;
  readonly onDisconnect: 'stop' | 'keep' | undefined;
  readonly runtime: 'docker' | 'process' | undefined;
  readonly job: { node: PNode; path: string } | undefined;
  readonly cron: { node: PNode; path: string } | undefined;
  readonly autoscale: { node: PNode; path: string } | undefined;
  readonly update: { node: PNode; path: string } | undefined;
  /** `image_update: {interval}` (image-update-spec.ts). */
  readonly imageUpdate: { node: PNode; path: string } | undefined;
  /** `rebalance: false` keeps the service's tasks where they are when nodes join (rebalance.ts). */
  readonly rebalance: boolean | undefined;
}

/** Reads a service's `x-shoal` mapping (absent: all undefined). */
export function readShoal(r: Reader, node: PNode | undefined, path: string): ShoalRead {
  const m = node === undefined ? undefined : r.map(node, path, true);
  if (m) r.checkKeys(m, path, SHOAL_KEYS);
  const get = (k: string) => m?.entries.get(k)?.value;
  const p = (k: string) => join(path, k);
  const kindNode = get('kind');
  const affinity: AffinitySpec[] = [];
  const affinityRefs: ShoalRead['affinityRefs'] = [];
  for (const [key, anti] of [
    ['affinity', false],
    ['anti_affinity', true],
  ] as const) {
    const n = get(key);
    if (n) readAffinity(r, n, p(key), anti, affinity, affinityRefs);
  }
  affinity.sort(
    (a, b) => Number(a.anti) - Number(b.anti) || (a.service < b.service ? -1 : a.service > b.service ? 1 : 0),
  );
  const at = (k: string) => (get(k) ? { node: get(k)!, path: p(k) } : undefined);
  return {
    kind: kindNode ? r.oneOf(kindNode, p('kind'), ['service', 'job', 'cron'] as const) : undefined,
    kindNode,
    priority: get('priority') ? r.int(get('priority')!, p('priority'), 0, MAX_PRIORITY) : undefined,
    strategy: get('strategy') ? r.oneOf(get('strategy')!, p('strategy'), ['spread', 'binpack'] as const) : undefined,
    affinity,
    affinityRefs,
    namespace: get('namespace') ? readName(r, get('namespace')!, p('namespace')) : undefined,
    owner: get('owner') ? r.name(get('owner')!, p('owner')) : undefined,
    gang: get('gang') ? r.bool(get('gang')!, p('gang')) : undefined,
    preemptible: get('preemptible') ? r.bool(get('preemptible')!, p('preemptible')) : undefined,
    onDisconnect: get('on_disconnect')
      ? r.oneOf(get('on_disconnect')!, p('on_disconnect'), ['stop', 'keep'] as const)
      : undefined,
    runtime: get('runtime') ? r.oneOf(get('runtime')!, p('runtime'), ['docker', 'process'] as const) : undefined,
    job: at('job'),
    cron: at('cron'),
    autoscale: at('autoscale'),
    update: at('update'),
    imageUpdate: at('image_update'),
    rebalance: get('rebalance') ? r.bool(get('rebalance')!, p('rebalance')) : undefined,
  };
}

/** A namespace: lowercase letters, digits and dashes (it names a fair-share account). */
export function readName(r: Reader, node: PNode, path: string): string | undefined {
  const s = r.str(node, path);
  if (s !== undefined && !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(s)) {
    r.error(node, path, `expected lowercase letters, digits and dashes (at most 63), got ${JSON.stringify(s)}`);
    return undefined;
  }
  return s;
}

// affinity: [db] or [{service: db, required: false, weight: 50}]
function readAffinity(
  r: Reader,
  node: PNode,
  path: string,
  anti: boolean,
  out: AffinitySpec[],
  refs: ShoalRead['affinityRefs'],
): void {
  const items = node.kind === 'seq' ? node.items : [node];
  items.forEach((it, i) => {
    const p = node.kind === 'seq' ? join(path, i) : path;
    if (it.kind === 'scalar') {
      const service = r.name(it, p);
      if (service === undefined) return;
      out.push({ service, anti, required: true, weight: 100 });
      refs.push({ service, node: it, path: p });
      return;
    }
    const m = r.map(it, p);
    if (!m) return;
    r.checkKeys(m, p, ['service', 'required', 'weight']);
    const sNode = m.entries.get('service')?.value;
    if (!sNode) return r.error(m, p, 'service is required: the service to run next to (or away from)');
    const service = r.name(sNode, join(p, 'service'));
    const required = m.entries.get('required')
      ? (r.bool(m.entries.get('required')!.value, join(p, 'required')) ?? true)
      : true;
    const weight = m.entries.get('weight')
      ? (r.int(m.entries.get('weight')!.value, join(p, 'weight'), 1, 100) ?? 100)
      : 100;
    if (service === undefined) return;
    out.push({ service, anti, required, weight });
    refs.push({ service, node: sNode, path: join(p, 'service') });
  });
}

/** Dependency references, checked against the stack's jobs by the caller. */
export type DependencyRef = { job: string; node: PNode; path: string };

/** Reads `x-shoal.job` (absent: defaults). */
export function readJob(r: Reader, at: { node: PNode; path: string } | undefined, refs: DependencyRef[]): JobSpec {
  const path = at?.path ?? '';
  const m = at === undefined ? undefined : r.map(at.node, path, true);
  if (m) r.checkKeys(m, path, JOB_KEYS);
  const get = (k: string) => m?.entries.get(k)?.value;
  const p = (k: string) => join(path, k);
  let array: ArraySpec | null = null;
  const aNode = get('array');
  if (aNode) {
    const s = aNode.kind === 'scalar' && aNode.value !== null ? String(aNode.value) : undefined;
    if (s === undefined) r.error(aNode, p('array'), `expected an array range such as "0-99%10", got ${show(aNode)}`);
    else
      try {
        array = parseArray(s);
      } catch (e) {
        r.error(aNode, p('array'), (e as Error).message);
      }
  }
  const completions = get('completions')
    ? r.int(get('completions')!, p('completions'), 1, ARRAY_LIMITS.maxCount)
    : undefined;
  if (array && completions !== undefined && completions !== array.count) {
    r.error(
      get('completions'),
      p('completions'),
      `an array job completes once per index (${array.count}); remove completions`,
    );
  }
  const backoff = { initialMs: 10_000, maxMs: 300_000, factor: 2 };
  const bNode = get('backoff');
  if (bNode) {
    const bm = r.map(bNode, p('backoff'));
    if (bm) {
      r.checkKeys(bm, p('backoff'), ['initial', 'max', 'factor']);
      const bg = (k: string) => bm.entries.get(k)?.value;
      backoff.initialMs = (bg('initial') && r.duration(bg('initial')!, p(`backoff.initial`))) ?? backoff.initialMs;
      backoff.maxMs = (bg('max') && r.duration(bg('max')!, p(`backoff.max`))) ?? backoff.maxMs;
      backoff.factor = (bg('factor') && r.num(bg('factor')!, p(`backoff.factor`), 1, 10)) ?? backoff.factor;
      if (backoff.maxMs < backoff.initialMs) r.error(bm, p('backoff'), 'max must be >= initial');
    }
  }
  return {
    completions: array ? array.count : (completions ?? 1),
    // An array runs as many indices at once as fit (capped by `%N`), as in Slurm.
    parallelism:
      (get('parallelism') && r.int(get('parallelism')!, p('parallelism'), 1, ARRAY_LIMITS.maxCount)) ??
      (array ? array.count : 1),
    retries: (get('retries') && r.int(get('retries')!, p('retries'), 0, 1000)) ?? 0,
    backoff,
    timeLimitMs: (get('time_limit') && readTimeLimit(r, get('time_limit')!, p('time_limit'))) ?? 0,
    array,
    dependencies: get('dependencies') ? readDependencies(r, get('dependencies')!, p('dependencies'), refs) : [],
    requeue: (get('requeue') && r.bool(get('requeue')!, p('requeue'))) ?? true,
  };
}

/**
 * The longest `time_limit` (and `shoal job submit --time`): 365 days. Longer runs take
 * `UNLIMITED`. The CLI keeps its own copy of this bound (it loads nothing outside src/cli).
 */
export const MAX_TIME_LIMIT_MS = 365 * 86_400_000;

/** `time_limit`: a duration up to {@link MAX_TIME_LIMIT_MS}, or `UNLIMITED`/`infinite` (0: none), as in Slurm. */
function readTimeLimit(r: Reader, node: PNode, path: string): number | undefined {
  const v = node.kind === 'scalar' ? node.value : undefined;
  if (typeof v === 'string' && /^\s*(unlimited|infinite)\s*$/i.test(v)) return 0;
  const ms = r.duration(node, path);
  if (ms !== undefined && ms > MAX_TIME_LIMIT_MS) {
    r.error(node, path, `expected a time limit of at most 365d (or UNLIMITED for none), got ${show(node)}`);
    return undefined;
  }
  return ms;
}

// dependencies: {afterok: [a, b], afterany: c}  or  ["afterok:a", "afterany:c"]
function readDependencies(r: Reader, node: PNode, path: string, refs: DependencyRef[]): JobDependencySpec[] {
  const out: JobDependencySpec[] = [];
  const add = (type: JobDependencySpec['type'], job: string, n: PNode, p: string) => {
    out.push({ type, job });
    refs.push({ job, node: n, path: p });
  };
  if (node.kind === 'map') {
    const m: PMap = node;
    r.checkKeys(m, path, [...DEP_TYPES]);
    for (const type of DEP_TYPES) {
      const v = m.entries.get(type)?.value;
      if (!v) continue;
      const items = v.kind === 'seq' ? v.items : [v];
      items.forEach((it, i) => {
        const p = v.kind === 'seq' ? join(join(path, type), i) : join(path, type);
        const job = r.name(it, p);
        if (job !== undefined) add(type, job, it, p);
      });
    }
  } else if (node.kind === 'seq') {
    node.items.forEach((it, i) => {
      const p = join(path, i);
      const s = r.str(it, p);
      if (s === undefined) return;
      const mm = /^(afterok|afterany|afternotok):(.+)$/.exec(s.trim());
      if (!mm)
        return r.error(
          it,
          p,
          `expected "afterok:<job>", "afterany:<job>" or "afternotok:<job>", got ${JSON.stringify(s)}`,
        );
      add(mm[1] as JobDependencySpec['type'], mm[2]!, it, p);
    });
  } else
    r.error(
      node,
      path,
      `expected {afterok: [jobs], afterany: [...], afternotok: [...]} or a list like ["afterok:prepare"], got ${show(node)}`,
    );
  return out.sort((a, b) => (a.type + '\0' + a.job < b.type + '\0' + b.job ? -1 : 1));
}

/** Reads `x-shoal.cron`; `schedule` is required. */
export function readCron(
  r: Reader,
  at: { node: PNode; path: string } | undefined,
  fallback: PNode,
  fallbackPath: string,
): CronSpec | null {
  if (at === undefined) {
    r.error(fallback, fallbackPath, 'a cron service needs x-shoal.cron.schedule, e.g. "0 3 * * *"');
    return null;
  }
  const path = at.path;
  const m = r.map(at.node, path);
  if (!m) return null;
  r.checkKeys(m, path, CRON_KEYS);
  const get = (k: string) => m.entries.get(k)?.value;
  const p = (k: string) => join(path, k);
  const sNode = get('schedule');
  let schedule = '';
  if (!sNode) r.error(m, path, 'schedule is required, e.g. schedule: "0 3 * * *"');
  else {
    const s = r.str(sNode, p('schedule'));
    const err = s === undefined ? undefined : cronError(s);
    if (err) r.error(sNode, p('schedule'), `invalid cron schedule ${JSON.stringify(s)}: ${err}`);
    schedule = s?.trim().replace(/\s+/g, ' ') ?? '';
  }
  let timeZone = 'UTC';
  const tz = get('time_zone');
  if (tz) {
    const s = r.str(tz, p('time_zone'));
    if (s !== undefined && !isTimeZone(s))
      r.error(
        tz,
        p('time_zone'),
        `unknown time zone ${JSON.stringify(s)}: use an IANA name such as Europe/Paris or UTC`,
      );
    else if (s !== undefined) timeZone = s;
  }
  const hist = (k: string, d: number) => (get(k) && r.int(get(k)!, p(k), 0, 1000)) ?? d;
  return {
    schedule,
    timeZone,
    concurrencyPolicy:
      (get('concurrency_policy') &&
        r.oneOf(get('concurrency_policy')!, p('concurrency_policy'), ['allow', 'forbid', 'replace'] as const)) ||
      'forbid',
    missedRuns:
      (get('missed_runs') && r.oneOf(get('missed_runs')!, p('missed_runs'), ['skip', 'run-once'] as const)) ||
      'run-once',
    startingDeadlineMs:
      (get('starting_deadline') && r.duration(get('starting_deadline')!, p('starting_deadline'))) ?? 0,
    successfulHistory: hist('successful_history', 3),
    failedHistory: hist('failed_history', 1),
    suspended: (get('suspend') && r.bool(get('suspend')!, p('suspend'))) ?? false,
  };
}

/**
 * Reads `x-shoal.autoscale`; `max` is required. Defaults are Kubernetes' HPA's (src/autoscale/policy.ts):
 * the optional settings are kept only when given, so a file that does not use them keeps its spec hash.
 */
export function readAutoscale(r: Reader, at: { node: PNode; path: string }): AutoscaleSpec | null {
  const path = at.path;
  const m = r.map(at.node, path);
  if (!m) return null;
  r.checkKeys(m, path, AUTOSCALE_KEYS);
  const get = (k: string) => m.entries.get(k)?.value;
  const p = (k: string) => join(path, k);
  const minNode = get('min');
  const min = (minNode && r.int(minNode, p('min'))) ?? 1;
  const maxNode = get('max');
  if (!maxNode) r.error(m, path, 'max is required: the most replicas autoscaling may run');
  const max = (maxNode && r.int(maxNode, p('max'), 1)) ?? min;
  if (max < min) r.error(maxNode ?? m, p('max'), `max (${max}) is below min (${min})`);
  const pct = (k: string) => (get(k) && r.int(get(k)!, p(k), 1, 100)) ?? 0;
  const targetCpuPercent = pct('target_cpu');
  const targetMemoryPercent = pct('target_memory');
  if (!['target_cpu', 'target_memory', 'target_pending_jobs', 'metric', 'target_rps'].some((k) => get(k)))
    r.error(
      m,
      path,
      'set target_cpu, target_memory (percent), target_pending_jobs or metric (or target_rps: requests/s per task), e.g. target_cpu: 70',
    );

  const window = (name: string, alias: string, fallback: number): number => {
    if (get(name) && get(alias)) r.error(get(alias)!, p(alias), `${alias} is another name for ${name}: give one`);
    const node = get(name) ?? get(alias);
    return (node && r.duration(node, get(name) ? p(name) : p(alias))) ?? fallback;
  };
  const optional = <T>(k: string, read: (node: PNode, at: string) => T | undefined): T | undefined => {
    const node = get(k);
    return node && read(node, p(k));
  };
  const pendingJobs = optional('target_pending_jobs', (n, at) => readPendingJobs(r, n, at));
  const metric = optional('metric', (n, at) => readMetricSource(r, n, at));
  const targetRps = optional('target_rps', (n, at) => r.num(n, at, 0.001, 1e9));
  const syncPeriodMs = optional('sync_period', (n, at) => r.duration(n, at));
  if (syncPeriodMs !== undefined && syncPeriodMs < 1000)
    r.error(get('sync_period')!, p('sync_period'), `expected at least 1s, got ${syncPeriodMs}ms`);
  const tolerance = optional('tolerance', (n, at) => r.num(n, at, 0, 0.9));
  const scaleUpPods = optional('scale_up_pods', (n, at) => r.int(n, at, 1, 1000));
  const scaleUpPercent = optional('scale_up_percent', (n, at) => r.int(n, at, 1, 1000));
  const scaleDownPercent = optional('scale_down_percent', (n, at) => r.int(n, at, 1, 100));
  // Scale to zero (min: 0): how long without a connection, and how the first ones are held.
  const idleMs = optional('idle', (n, at) => r.duration(n, at));
  if (idleMs !== undefined && idleMs < 1000) r.error(get('idle')!, p('idle'), `expected at least 1s, got ${idleMs}ms`);
  const coldStartTimeoutMs = optional('cold_start_timeout', (n, at) => r.duration(n, at));
  if (coldStartTimeoutMs !== undefined && (coldStartTimeoutMs < 1000 || coldStartTimeoutMs > 600_000))
    r.error(get('cold_start_timeout')!, p('cold_start_timeout'), `expected 1s to 10m, got ${coldStartTimeoutMs}ms`);
  const coldStartQueue = optional('cold_start_queue', (n, at) => r.int(n, at, 1, 65_536));
  for (const k of ['idle', 'cold_start_timeout', 'cold_start_queue'])
    if (get(k) && min !== 0) r.error(get(k)!, p(k), `${k} applies to scale to zero: set min: 0`);
  return {
    min,
    max,
    targetCpuPercent,
    targetMemoryPercent,
    scaleUpCooldownMs: window('scale_up_window', 'scale_up_cooldown', 0),
    scaleDownCooldownMs: window('scale_down_window', 'scale_down_cooldown', 300_000),
    ...(syncPeriodMs === undefined ? {} : { syncPeriodMs }),
    ...(tolerance === undefined ? {} : { tolerance }),
    ...(scaleUpPods === undefined ? {} : { scaleUpPods }),
    ...(scaleUpPercent === undefined ? {} : { scaleUpPercent }),
    ...(scaleDownPercent === undefined ? {} : { scaleDownPercent }),
    ...(pendingJobs === undefined ? {} : { pendingJobs }),
    ...(metric === undefined ? {} : { metric }),
    ...(targetRps === undefined ? {} : { targetRps }),
    ...(idleMs === undefined ? {} : { idleMs }),
    ...(coldStartTimeoutMs === undefined ? {} : { coldStartTimeoutMs }),
    ...(coldStartQueue === undefined ? {} : { coldStartQueue }),
  };
}

/** `metric: {port: 9100, path: /metrics, name: jobs_in_flight, value: 10}`. */
function readMetricSource(r: Reader, node: PNode, path: string): AutoscaleMetricSource | undefined {
  const m = r.map(node, path);
  if (!m) return undefined;
  r.checkKeys(m, path, ['port', 'path', 'name', 'value']);
  const get = (k: string) => m.entries.get(k)?.value;
  if (!get('port') || !get('name') || !get('value')) {
    r.error(node, path, 'expected {port, name, value} (and path, default /metrics): value is the target per task');
    return undefined;
  }
  const port = r.int(get('port')!, join(path, 'port'), 1, 65_535);
  const name = r.str(get('name')!, join(path, 'name'));
  if (name !== undefined && !/^[a-zA-Z_:][a-zA-Z0-9_:]{0,199}$/.test(name))
    r.error(get('name')!, join(path, 'name'), `expected a Prometheus metric name, got ${JSON.stringify(name)}`);
  const metricPath = get('path') ? r.str(get('path')!, join(path, 'path')) : '/metrics';
  if (metricPath !== undefined && !/^\/[\x21-\x7e]{0,255}$/.test(metricPath))
    r.error(
      get('path')!,
      join(path, 'path'),
      `expected an absolute URL path such as /metrics, got ${JSON.stringify(metricPath)}`,
    );
  const value = r.num(get('value')!, join(path, 'value'), 1e-9, 1e12);
  if (port === undefined || name === undefined || metricPath === undefined || value === undefined) return undefined;
  return { port, path: metricPath, name, value };
}

/** `target_pending_jobs: {namespace: batch, per_task: 5}`: one task per 5 jobs waiting in `batch`. */
function readPendingJobs(r: Reader, node: PNode, path: string): { namespace: string; perTask: number } | undefined {
  const m = r.map(node, path);
  if (!m) return undefined;
  r.checkKeys(m, path, ['namespace', 'per_task']);
  const ns = m.entries.get('namespace')?.value;
  const per = m.entries.get('per_task')?.value;
  if (!ns || !per) {
    r.error(node, path, 'expected {namespace: NAME, per_task: N}: one task per N jobs pending in NAME');
    return undefined;
  }
  const namespace = readName(r, ns, join(path, 'namespace'));
  const perTask = r.int(per, join(path, 'per_task'), 1, 1_000_000);
  return namespace === undefined || perTask === undefined ? undefined : { namespace, perTask };
}
