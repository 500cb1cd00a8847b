/**
 * Prometheus metrics in the text exposition format (version 0.0.4), without a client library:
 * counters, gauges and histograms with fixed label names. Names follow Prometheus' rules
 * (checked here: a bad name is a programming error, thrown at registration). Every metric bounds
 * its number of series, so no label value (a service name, a node id) can grow a scrape without
 * limit: past the bound, new series are dropped and counted in
 * `shoal_metrics_series_dropped_total`.
 *
 * @example
 * const registry = new MetricRegistry();
 * const commits = registry.counter('shoal_raft_commits_total', 'Entries committed.');
 * commits.inc();
 * response.end(registry.render());
 */

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const DEFAULT_MAX_SERIES = 2_000;

export type Labels = Readonly<Record<string, string>>;
type MetricType = 'counter' | 'gauge' | 'histogram';

interface MetricOptions {
  readonly labelNames?: readonly string[];
  readonly maxSeries?: number;
  /** Rendered only while this says so (the cluster's metrics, on the leader alone). */
  readonly enabled?: () => boolean;
}

/** Latency buckets in seconds, 100 µs to 10 s: Raft fsyncs and proposals both fit. */
export const LATENCY_BUCKETS_S: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

abstract class Metric<Series> {
  readonly #series = new Map<string, { labels: Labels; value: Series }>();
  readonly labelNames: readonly string[];
  readonly #maxSeries: number;
  readonly #onDrop: () => void;
  readonly enabled: () => boolean;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    options: MetricOptions,
    onDrop: () => void,
  ) {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name ${JSON.stringify(name)}`);
    this.labelNames = options.labelNames ?? [];
    for (const label of this.labelNames)
      if (!LABEL_NAME.test(label) || label.startsWith('__') || label === 'le')
        throw new Error(`invalid label name ${JSON.stringify(label)} on ${name}`);
    this.#maxSeries = options.maxSeries ?? DEFAULT_MAX_SERIES;
    this.#onDrop = onDrop;
    this.enabled = options.enabled ?? (() => true);
  }

  protected abstract initial(): Series;

  /** The series for these labels (created on first use), or null past the series bound. */
  protected series(labels: Labels): Series | null {
    const key = this.#key(labels);
    const found = this.#series.get(key);
    if (found) return found.value;
    if (this.#series.size >= this.#maxSeries) {
      this.#onDrop();
      return null;
    }
    const value = this.initial();
    this.#series.set(key, { labels: { ...labels }, value });
    return value;
  }

  /** A metric without labels shows 0 from the start (Prometheus prefers a 0 to a missing series). */
  seedUnlabelled(): void {
    if (this.labelNames.length === 0) this.series({});
  }

  /** Forget every series: gauges recomputed at each scrape start from nothing. */
  reset(): void {
    this.#series.clear();
  }

  entries(): Iterable<{ labels: Labels; value: Series }> {
    return this.#series.values();
  }

  #key(labels: Labels): string {
    const names = Object.keys(labels);
    if (names.length !== this.labelNames.length || this.labelNames.some((n) => labels[n] === undefined))
      throw new Error(
        `${this.name} takes the labels ${this.labelNames.join(', ') || '(none)'}, got ${names.join(', ')}`,
      );
    return this.labelNames.map((n) => labels[n]).join('\u0000');
  }
}

export class Counter extends Metric<{ n: number }> {
  protected initial() {
    return { n: 0 };
  }
  inc(by = 1, labels: Labels = {}): void {
    if (by < 0) throw new Error(`${this.name}: a counter only goes up`);
    const s = this.series(labels);
    if (s) s.n += by;
  }
}

export class Gauge extends Metric<{ n: number }> {
  protected initial() {
    return { n: 0 };
  }
  set(value: number, labels: Labels = {}): void {
    const s = this.series(labels);
    if (s) s.n = value;
  }
  inc(by = 1, labels: Labels = {}): void {
    const s = this.series(labels);
    if (s) s.n += by;
  }
}

interface HistogramSeries {
  readonly counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Metric<HistogramSeries> {
  readonly buckets: readonly number[];

  constructor(name: string, help: string, buckets: readonly number[], options: MetricOptions, onDrop: () => void) {
    super(name, help, 'histogram', options, onDrop);
    this.buckets = [...buckets].sort((a, b) => a - b);
  }

  protected initial(): HistogramSeries {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }

  observe(value: number, labels: Labels = {}): void {
    const s = this.series(labels);
    if (!s) return;
    s.sum += value;
    s.count++;
    // Counted in the first bucket that holds it; render makes them cumulative.
    const at = this.buckets.findIndex((le) => value <= le);
    if (at >= 0) s.counts[at] = (s.counts[at] ?? 0) + 1;
  }
}

type AnyMetric = Counter | Gauge | Histogram;

export class MetricRegistry {
  readonly #metrics = new Map<string, AnyMetric>();
  readonly #collectors: (() => void)[] = [];
  readonly #dropped: Counter;

  constructor() {
    this.#dropped = this.counter(
      'shoal_metrics_series_dropped_total',
      'Series not recorded because a metric reached its bound on distinct label values.',
    );
  }

  counter(name: string, help: string, options: MetricOptions = {}): Counter {
    return this.#add(new Counter(name, help, 'counter', options, () => this.#dropped.inc()));
  }

  gauge(name: string, help: string, options: MetricOptions = {}): Gauge {
    return this.#add(new Gauge(name, help, 'gauge', options, () => this.#dropped.inc()));
  }

  histogram(name: string, help: string, buckets: readonly number[], options: MetricOptions = {}): Histogram {
    return this.#add(new Histogram(name, help, buckets, options, () => this.#dropped.inc()));
  }

  /** Run before every render: gauges read from live state are set here. */
  onCollect(collect: () => void): void {
    this.#collectors.push(collect);
  }

  render(): string {
    for (const collect of this.#collectors) collect();
    const lines: string[] = [];
    for (const metric of this.#metrics.values()) {
      if (!metric.enabled()) continue;
      lines.push(`# HELP ${metric.name} ${escapeHelp(metric.help)}`, `# TYPE ${metric.name} ${metric.type}`);
      if (metric instanceof Histogram) renderHistogram(metric, lines);
      else for (const { labels, value } of metric.entries()) lines.push(sample(metric.name, labels, value.n));
    }
    return lines.join('\n') + '\n';
  }

  #add<M extends AnyMetric>(metric: M): M {
    if (this.#metrics.has(metric.name)) throw new Error(`metric ${metric.name} is registered twice`);
    this.#metrics.set(metric.name, metric);
    metric.seedUnlabelled();
    return metric;
  }
}

function renderHistogram(metric: Histogram, lines: string[]): void {
  for (const { labels, value } of metric.entries()) {
    let cumulative = 0;
    metric.buckets.forEach((le, i) => {
      cumulative += value.counts[i] ?? 0;
      lines.push(sample(`${metric.name}_bucket`, { ...labels, le: formatNumber(le) }, cumulative));
    });
    lines.push(sample(`${metric.name}_bucket`, { ...labels, le: '+Inf' }, value.count));
    lines.push(sample(`${metric.name}_sum`, labels, value.sum));
    lines.push(sample(`${metric.name}_count`, labels, value.count));
  }
}

function sample(name: string, labels: Labels, value: number): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return `${name}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''} ${formatNumber(value)}`;
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

const escapeHelp = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
