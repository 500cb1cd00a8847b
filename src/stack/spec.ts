/**
 * The normalized stack specification: what a Compose file means once parsed,
 * validated and fully defaulted. Every field is present (no `undefined`
 * except where noted), durations are milliseconds, sizes bytes, CPUs
 * millicores, records have sorted keys and unordered lists are sorted, so two
 * equivalent files give deep-equal specs and equal hashes (see `hash.ts`).
 *
 * @module
 */

/** Most services in one stack: `parseStack` refuses more, and the replicated state checks it again. */
export const MAX_STACK_SERVICES = 1_000;

/** A whole stack: services deployed, updated and removed together. */
export interface StackSpec {
  /** Stack name (`--name`, else the file's top-level `name:`, else its directory name). */
  readonly name: string;
  /** Services by name, keys sorted. */
  readonly services: Readonly<Record<string, ServiceSpec>>;
  /** Networks declared at top level (plus the implicit `default`), keys sorted. */
  readonly networks: Readonly<Record<string, NetworkSpec>>;
  /** Named volumes declared at top level, keys sorted. */
  readonly volumes: Readonly<Record<string, VolumeSpec>>;
  /** Top-level `secrets:` and `configs:` by Compose key; absent when the file has none. */
  readonly secrets?: Readonly<Record<string, FileObjectSpec>>;
  readonly configs?: Readonly<Record<string, FileObjectSpec>>;
  /** Stack-wide shoal settings from the top-level `x-shoal`. */
  readonly namespace: string;
  readonly owner: string | null;
}

/** How a service runs: `replicated`/`global` services, `job` runs to completion, `cron` starts jobs on a schedule. */
export type ServiceKind = 'replicated' | 'global' | 'job' | 'cron';

/** One service of a stack. */
export interface ServiceSpec {
  readonly name: string;
  readonly kind: ServiceKind;
  /** `docker` (default) runs a container of `image`; `process` runs `command` on the host (x-shoal.runtime). */
  readonly runtime: 'docker' | 'process';
  /** '' for the process runtime. */
  readonly image: string;
  /** Overrides the image's CMD; `null` keeps it. */
  readonly command: readonly string[] | null;
  /** Overrides the image's ENTRYPOINT; `null` keeps it. */
  readonly entrypoint: readonly string[] | null;
  /** Environment after `env_file` then `environment` (the latter wins), keys sorted. */
  readonly env: Readonly<Record<string, string>>;
  /** Container labels (service-level `labels`), keys sorted. */
  readonly labels: Readonly<Record<string, string>>;
  readonly workingDir: string | null;
  readonly user: string | null;
  readonly hostname: string | null;
  readonly init: boolean;
  readonly tty: boolean;
  readonly stdinOpen: boolean;
  readonly readOnly: boolean;
  readonly privileged: boolean;
  /** Sorted. */
  readonly capAdd: readonly string[];
  /** Sorted. */
  readonly capDrop: readonly string[];
  readonly dns: readonly string[];
  /** `host:ip` entries, sorted. */
  readonly extraHosts: readonly string[];
  /** Sorted keys. */
  readonly sysctls: Readonly<Record<string, string>>;
  readonly shmSizeBytes: number | null;
  readonly stopSignal: string | null;
  /** Default 10 s, as in Compose. */
  readonly stopGracePeriodMs: number;
  readonly logging: LoggingSpec | null;
  /** Published ports, sorted by target, protocol, published. */
  readonly ports: readonly PortSpec[];
  /** Exposed-only ports (`expose:`), sorted; informational. */
  readonly expose: readonly string[];
  /** Mounts, sorted by target. */
  readonly volumes: readonly MountSpec[];
  /** `null` when the file says nothing (the image's HEALTHCHECK applies). */
  readonly healthcheck: HealthcheckSpec | null;
  /** Sorted by service. */
  readonly dependsOn: readonly DependsOnSpec[];
  /** Networks this service joins, sorted by name; `default` when none given. */
  readonly networks: readonly ServiceNetworkSpec[];
  /** `deploy:` section. */
  readonly deploy: DeploySpec;
  /** shoal scheduling settings (`x-shoal`). */
  readonly scheduling: SchedulingSpec;
  /** Set for `job` and `cron` services, `null` otherwise. */
  readonly job: JobSpec | null;
  /** Set for `cron` services, `null` otherwise. */
  readonly cron: CronSpec | null;
  /** Set when `x-shoal.autoscale` is given (replicated services only). */
  readonly autoscale: AutoscaleSpec | null;
  // The fields below are absent (not null) when the file does not set them, so a spec parsed
  // before they existed hashes the same and redeploying an unchanged file changes nothing.
  /** `platform:`: tasks run only on nodes of this OS and architecture. */
  readonly platform?: PlatformSpec;
  /** `network_mode:`: the node's own network stack (`host`) or none; `networks` is then empty. */
  readonly networkMode?: 'host' | 'none';
  /** `runtime:`: the engine's OCI runtime for the container (`nvidia`, `runsc`…); the engine default when absent. */
  readonly ociRuntime?: string;
  /** `x-shoal.update` (canaries, progress deadline); absent when the file does not set it. */
  readonly rollout?: RolloutSpec;
  /** `x-shoal.image_update`: the leader watches the tag and rolls new digests out; absent: off. */
  /** `x-shoal.image_update`; `false`: never, even with a cluster default (`shoal agent --image-update-ms`). */
  readonly imageUpdate?: ImageUpdateSpec | false;
  /** `secrets:`: files on tmpfs in the task (`/run/secrets/<name>` by default); absent when none. */
  readonly secrets?: readonly FileRefSpec[];
  /** `configs:`: files in the task at their target (`/<name>` by default); absent when none. */
  readonly configs?: readonly FileRefSpec[];
}

/** A service's use of a secret or config (Compose's long syntax, defaults filled in). */
export interface FileRefSpec {
  /** The cluster object's name (`<stack>_<key>`, the `name:` given, or the external name). */
  readonly source: string;
  /** Absolute path in the task. */
  readonly target: string;
  readonly uid: number;
  readonly gid: number;
  /** Permission bits, e.g. 0o444. */
  readonly mode: number;
}

/** A top-level `secrets:` or `configs:` entry. */
export interface FileObjectSpec {
  /** The cluster object's name: `name:`, else `<stack>_<key>` (external: `name:`, else the key). */
  readonly name: string;
  /** Created outside the stack (`shoal secret create`): must exist when the stack is deployed. */
  readonly external: boolean;
  /** The content (UTF-8 text) from `file:` or `environment:`; `null` when external. Never stored as is. */
  readonly content: string | null;
}

/** `platform: os[/arch[/variant]]`, normalized as Docker does (`x86_64` → `amd64`, `arm64/v8` → `arm64`). */
export interface PlatformSpec {
  readonly os: string;
  /** `null`: any architecture (`platform: linux`). */
  readonly arch: string | null;
  /** `null` when the architecture's default (`arm` is `v7` unless given). */
  readonly variant: string | null;
}

/** A published port. A short-syntax range (`8080-8081:80-81`) becomes one entry per port. */
export interface PortSpec {
  readonly target: number;
  /** `null`: not published on a fixed port. */
  readonly published: number | null;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  /** `ingress` (routing mesh, the Compose default) or `host` (this node's port). */
  readonly mode: 'ingress' | 'host';
  /** Host address to bind (`127.0.0.1:8080:80`); `null` for all. */
  readonly hostIp: string | null;
}

/** A mount. */
export interface MountSpec {
  readonly type: 'bind' | 'volume' | 'tmpfs';
  /** Host path (bind, absolute), volume name (volume), `null` for anonymous volumes and tmpfs. */
  readonly source: string | null;
  /** Absolute path in the container. */
  readonly target: string;
  readonly readOnly: boolean;
  /** tmpfs only: size limit, `null` for the default. */
  readonly tmpfsSizeBytes?: number | null;
  /** volume only: do not copy image content into a new volume. */
  readonly noCopy?: boolean;
}

/** A healthcheck. */
export interface HealthcheckSpec {
  /** `disable: true` or `test: ["NONE"]`: the image's check is turned off. */
  readonly disabled: boolean;
  /** `['CMD', ...argv]` or `['CMD-SHELL', script]`; `null` keeps the image's test. */
  readonly test: readonly string[] | null;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly startPeriodMs: number;
  readonly startIntervalMs: number;
}

/** `depends_on` entry. */
export interface DependsOnSpec {
  readonly service: string;
  readonly condition: 'service_started' | 'service_healthy' | 'service_completed_successfully';
  readonly required: boolean;
}

/** A network a service joins. */
export interface ServiceNetworkSpec {
  readonly name: string;
  /** Sorted. */
  readonly aliases: readonly string[];
}

/** A top-level network. */
export interface NetworkSpec {
  readonly driver: string;
  readonly external: boolean;
  /** Name on the engine when it differs from the key. */
  readonly externalName: string | null;
  readonly attachable: boolean;
  readonly internal: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly driverOpts: Readonly<Record<string, string>>;
}

/** A top-level named volume. */
export interface VolumeSpec {
  readonly driver: string;
  readonly external: boolean;
  readonly externalName: string | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly driverOpts: Readonly<Record<string, string>>;
}

/** `logging:`. */
export interface LoggingSpec {
  readonly driver: string;
  readonly options: Readonly<Record<string, string>>;
}

/** The Compose `deploy:` section, defaulted as Docker Swarm does. */
export interface DeploySpec {
  /** Desired replicas of a `replicated` service (default 1; the autoscaler's starting point). 0 for other kinds: see `JobSpec.parallelism`. */
  readonly replicas: number;
  readonly endpointMode: 'vip' | 'dnsrr';
  /** Service labels (`deploy.labels`), sorted. */
  readonly labels: Readonly<Record<string, string>>;
  readonly placement: PlacementSpec;
  readonly resources: ResourcesSpec;
  readonly restartPolicy: RestartPolicySpec;
  readonly updateConfig: UpdateConfigSpec;
  readonly rollbackConfig: UpdateConfigSpec;
}

/** A placement constraint such as `node.labels.zone == east`. */
export interface ConstraintSpec {
  /** `node.id`, `node.hostname`, `node.role`, `node.platform.os`, `node.platform.arch`, `node.labels.<k>`, `engine.labels.<k>`. */
  readonly attribute: string;
  readonly op: '==' | '!=';
  readonly value: string;
}

/** `deploy.placement`. */
export interface PlacementSpec {
  /** Sorted by attribute, op, value. */
  readonly constraints: readonly ConstraintSpec[];
  /** Spread preferences in order (the first is the outermost split). */
  readonly preferences: readonly { readonly spread: string }[];
  /** 0 = unlimited. */
  readonly maxReplicasPerNode: number;
}

/** A device request (`reservations.devices`), e.g. GPUs. */
export interface DeviceRequestSpec {
  /** Sorted, e.g. `['gpu']`. */
  readonly capabilities: readonly string[];
  readonly driver: string | null;
  /** A number of devices, or `all`. `null` when `device_ids` names them. */
  readonly count: number | 'all' | null;
  readonly deviceIds: readonly string[];
  readonly options: Readonly<Record<string, string>>;
}

/** Limits or reservations. */
export interface ResourceSet {
  /** 0 = none. */
  readonly cpuMillis: number;
  /** 0 = none. */
  readonly memoryBytes: number;
  /** 0 = none (limits only). */
  readonly pids: number;
  /** Swarm `generic_resources` (`{kind: value}`), keys sorted, e.g. `{ gpu: 2 }`. */
  readonly generic: Readonly<Record<string, number>>;
  /** Compose `devices` (reservations only). */
  readonly devices: readonly DeviceRequestSpec[];
}

/** `deploy.resources`. */
export interface ResourcesSpec {
  readonly limits: ResourceSet;
  readonly reservations: ResourceSet;
}

/** `deploy.restart_policy`. Default: any, 5 s, unlimited, no window (jobs: on-failure). */
export interface RestartPolicySpec {
  readonly condition: 'none' | 'on-failure' | 'any';
  readonly delayMs: number;
  /** 0 = unlimited. */
  readonly maxAttempts: number;
  /** 0 = attempts are counted forever. */
  readonly windowMs: number;
}

/** `x-shoal.update`: what Compose's update_config lacks (see docs/ARCHITECTURE.md, Rollouts). */
export interface RolloutSpec {
  /** New tasks started first and held until promoted (0: no canary phase). */
  readonly canary: number;
  /** Promote once the canaries have been healthy for `monitor`. */
  readonly autoPromote: boolean;
  /** A rollout with no task updated for this long fails (default 600 s). */
  readonly progressDeadlineMs: number;
}

/** `x-shoal.image_update` (see docs/ARCHITECTURE.md, Images by digest). */
export interface ImageUpdateSpec {
  /** How often the leader asks the registry for the tag's digest (at least 5 s). */
  readonly intervalMs: number;
  /**
   * `local`: images loaded on the nodes (`docker load`), no registry: the leader asks the nodes
   * running the service for the image id their engine has for the tag. Absent: the registry.
   */
  readonly policy?: 'local';
}

/** `deploy.update_config` / `deploy.rollback_config`. */
export interface UpdateConfigSpec {
  /** Tasks updated at once; 0 = all at once. */
  readonly parallelism: number;
  readonly delayMs: number;
  readonly failureAction: 'pause' | 'continue' | 'rollback';
  readonly monitorMs: number;
  readonly maxFailureRatio: number;
  readonly order: 'stop-first' | 'start-first';
}

/** A service (anti-)affinity rule from `x-shoal.affinity` / `x-shoal.anti_affinity`. */
export interface AffinitySpec {
  /** Service name in this stack, or `stack/service`. */
  readonly service: string;
  readonly anti: boolean;
  /** Required rules filter nodes; preferred ones score them by `weight`. */
  readonly required: boolean;
  /** 1..100, used when not required. */
  readonly weight: number;
}

/** shoal's scheduling settings (`x-shoal`). */
export interface SchedulingSpec {
  /** 0..1000; higher preempts lower. Default 500 for services, 100 for jobs and cron. */
  readonly priority: number;
  /** Scoring: spread tasks out (default) or pack them onto few nodes. */
  readonly strategy: 'spread' | 'binpack';
  /** Sorted by anti, service. */
  readonly affinity: readonly AffinitySpec[];
  /** Fair-share accounting: the stack's namespace unless overridden. */
  readonly namespace: string;
  readonly owner: string | null;
  /** Place all tasks of a job at once or none (gang scheduling). */
  readonly gang: boolean;
  /** May higher-priority work stop it (x-shoal.preemptible)? Default: jobs yes, services no. */
  readonly preemptible: boolean;
  /**
   * `x-shoal.on_disconnect`: `stop` makes a node that lost the cluster's quorum stop the tasks
   * itself before the leader's node grace ends, so that they never run beside their replacements
   * (at most one). Absent: `stop` for a replicated service with a named volume, else `keep`.
   */
  readonly onDisconnect?: 'stop' | 'keep';
  /**
   * `x-shoal.rebalance: false`: tasks stay where they are when a node joins or comes back
   * (src/controllers/rebalance.ts). Absent (the default): the service is rebalanced.
   */
  readonly rebalance?: false;
}

/** A job array (`0-99%10`, `1,3,5-7`, `0-15:4`). */
export interface ArraySpec {
  /** The source text, for display. */
  readonly text: string;
  /** Inclusive ranges with step, in the order given. */
  readonly ranges: readonly { readonly start: number; readonly end: number; readonly step: number }[];
  /** Number of indices. */
  readonly count: number;
  /** Max array tasks running at once (`%N`); 0 = no cap beyond `parallelism`. */
  readonly maxConcurrent: number;
}

/** A dependency on other jobs, Slurm-style. */
export interface JobDependencySpec {
  readonly type: 'afterok' | 'afterany' | 'afternotok';
  /** Job (service) name in this stack, or `stack/service`. */
  readonly job: string;
}

/** Run-to-completion settings (`x-shoal.job`), for `job` and `cron` kinds. */
export interface JobSpec {
  /** Successful completions needed. Default 1 (with an array: one per index). */
  readonly completions: number;
  /** Tasks running at once. Default 1. */
  readonly parallelism: number;
  /** Retries per task after a failure. Default 0. */
  readonly retries: number;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number; readonly factor: number };
  /** Wall-clock limit per task; 0 = none. */
  readonly timeLimitMs: number;
  readonly array: ArraySpec | null;
  /** Sorted by type, job. */
  readonly dependencies: readonly JobDependencySpec[];
  /** Run a unit again elsewhere when its node fails (default), or fail it with NODE_FAIL. */
  readonly requeue: boolean;
}

/** Schedule settings (`x-shoal.cron`). */
export interface CronSpec {
  /** Five-field cron expression or a macro (`@daily`), as written. */
  readonly schedule: string;
  /** IANA time zone, default `UTC`. */
  readonly timeZone: string;
  /** What to do when a run is due while the previous one still runs. */
  readonly concurrencyPolicy: 'allow' | 'forbid' | 'replace';
  /** What to do with runs missed while the cluster was down: skip them or run the latest once. */
  readonly missedRuns: 'skip' | 'run-once';
  /** A missed run older than this is skipped; 0 = no limit. */
  readonly startingDeadlineMs: number;
  readonly successfulHistory: number;
  readonly failedHistory: number;
  readonly suspended: boolean;
}

/**
 * Autoscaling (`x-shoal.autoscale`), read by the leader's autoscaler (src/autoscale). The optional
 * fields are absent when not given: src/autoscale/policy.ts holds their defaults (Kubernetes' HPA's).
 */
export interface AutoscaleSpec {
  /** 0 (scale to zero) only for a service with a TCP port the service mesh listens on. */
  readonly min: number;
  readonly max: number;
  /** Target average CPU use, percent of the reservation (or limit, or one core); 0 = not used. */
  readonly targetCpuPercent: number;
  /** Target average memory use, percent of the reservation (or limit); 0 = not used. */
  readonly targetMemoryPercent: number;
  /** Scale-up stabilisation window (`scale_up_window`): the lowest recommendation in it wins. Default 0. */
  readonly scaleUpCooldownMs: number;
  /** Scale-down stabilisation window (`scale_down_window`): the highest recommendation in it wins. Default 5 min. */
  readonly scaleDownCooldownMs: number;
  /** How often the leader decides (`sync_period`); default 15 s. */
  readonly syncPeriodMs?: number;
  /** No change while value/target is within 1 ± tolerance; default 0.1. */
  readonly tolerance?: number;
  /** Scale up by at most max(scaleUpPods, scaleUpPercent %) per sync period; defaults 4 and 100. */
  readonly scaleUpPods?: number;
  readonly scaleUpPercent?: number;
  /** Scale down by at most this percent per sync period; default 100. */
  readonly scaleDownPercent?: number;
  /** One task per `perTask` jobs pending in `namespace` (a worker service; HPA's external AverageValue). */
  readonly pendingJobs?: { readonly namespace: string; readonly perTask: number };
  /**
   * A metric the tasks expose in Prometheus text format (`metric: {port, path, name, value}`):
   * the sum of the series named `name` at `http://<task>:<port><path>`, `value` per task on average.
   */
  readonly metric?: AutoscaleMetricSource;
  /**
   * Requests per second through the service address per task (`target_rps`), counted by the
   * nodes' mesh proxies; only for a service with a TCP port the mesh listens on.
   */
  readonly targetRps?: number;
  /** With min 0: no connection through any node's mesh proxy for this long scales to zero (`idle`, default 5 min). */
  readonly idleMs?: number;
  /** With min 0: how long a node holds a connection for a cold start (`cold_start_timeout`, default 60 s). */
  readonly coldStartTimeoutMs?: number;
  /** With min 0: connections a node holds at once per service for a cold start (`cold_start_queue`, default 256). */
  readonly coldStartQueue?: number;
}

/** Where and what the nodes scrape for `x-shoal.autoscale.metric`. */
export interface AutoscaleMetricSource {
  readonly port: number;
  /** Default `/metrics`. */
  readonly path: string;
  readonly name: string;
  /** The target average per task. */
  readonly value: number;
}
