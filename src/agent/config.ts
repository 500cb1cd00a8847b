/**
 * The agent's settings: command-line flags over environment variables over defaults.
 * Everything has a default so `shoal agent` runs with no config file.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

export interface AgentConfig {
  /** Identity, Raft log and snapshots, the admin socket. */
  readonly dataDir: string;
  /** libp2p listen multiaddrs. */
  readonly listen: readonly string[];
  /** Addresses to advertise to peers instead of the listen addresses (NAT, 0.0.0.0 listens). */
  readonly announce: readonly string[];
  /** Admin API unix socket path; '' disables it. */
  readonly apiSocket: string;
  /** Admin API TCP listen addresses (host:port). */
  readonly apiListen: readonly string[];
  /** Bearer token required on non-loopback API addresses. */
  readonly adminToken?: string;
  /** Raft tick length. Election timeout is 10–20 ticks. */
  readonly tickMs: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly logLevel: string;
  /** Start by creating a cluster (like `shoal init`) when the data dir holds none. */
  readonly init: boolean;
  /** Start by joining through this member (like `shoal join`) when the data dir holds no cluster. */
  readonly join?: { readonly address: string; readonly token: string };
  /** How long a voter may be silent before a learner takes its seat. */
  readonly voterReplaceGraceMs: number;
  /** How often the leader's membership loop makes its one change (default 500 ms; tests go faster). */
  readonly membershipIntervalMs?: number;
  readonly targetVoters: 3 | 5 | 'auto';
  /**
   * Raft learners kept beside the voters, ready to take a dead voter's seat; every other node is
   * an observer that follows the state feed (docs/ARCHITECTURE.md, "100 nodes"). Default 2; a
   * number at least the node count makes every node a Raft member, as before observers.
   */
  readonly standbyLearners?: number;
  /** Take a Raft snapshot every this many applied entries. */
  readonly snapshotEvery: number;
  /** Discover other agents on the LAN with mDNS (multicast): `shoal discover` lists them. */
  readonly mdns: boolean;
  /**
   * What runs tasks here: `docker` (default: Docker containers when an engine answers, plus the
   * process runtime), `process` (host processes only, no Docker), or `none` (control plane only).
   */
  readonly runtime: 'docker' | 'process' | 'none';
  /** Override of the cluster setting: a node silent this long is marked down and its tasks move. */
  readonly nodeDownGraceMs?: number;
  /**
   * Cluster default of `x-shoal.image_update` (issue 15): while this agent leads, container services
   * without it are watched every this many ms (registry policy; `image_update: false` opts out).
   */
  readonly imageUpdateMs?: number;
  /**
   * Run the service mesh on this node (needs root: it adds the link `shoal0`, and the DNS listens
   * on 10.253.0.1:53). Off by default while several agents may share one machine (tests, demo).
   */
  readonly mesh?: boolean;
}

export class AgentConfigError extends Error {
  override readonly name = 'AgentConfigError';
}

export const AGENT_USAGE = `Usage: shoal agent [options]

Runs the shoal daemon on this machine. Every machine runs the same agent.

Options:
  --data-dir DIR        identity, Raft log, snapshots, admin socket (env SHOAL_DATA_DIR; default /var/lib/shoal as root, else ~/.shoal)
  --listen MULTIADDR    libp2p listen address, repeatable (default /ip4/0.0.0.0/tcp/7946 as root, else /ip4/127.0.0.1/tcp/7946)
  --announce MULTIADDR  address peers should dial, repeatable (default: the listen addresses)
  --api ADDR            admin API on host:port, repeatable (default 127.0.0.1:7900; 'none' for the socket only;
                        wider than loopback needs --admin-token)
  --api-socket PATH     admin API unix socket (default DATA_DIR/shoal.sock; '' to disable)
  --admin-token TOKEN   bearer token for non-loopback API addresses (env SHOAL_ADMIN_TOKEN)
  --label KEY=VALUE     node label, repeatable
  --mdns                find other agents on the LAN with mDNS (multicast); \`shoal discover\` lists them
  --init                create a cluster on first start (same as 'shoal init')
  --join MULTIADDR      join through this member on first start (with --token or SHOAL_JOIN_TOKEN)
  --token TOKEN         join token for --join
  --target-voters N     3, 5 or auto (default auto: 5 from 5 members up)
  --standby-learners N  Raft learners kept ready to replace a voter (default 2); the other nodes
                        are observers that follow the state without being Raft members
  --tick-ms MS          Raft tick (default 100: elections after 1-2 s of silence)
  --runtime NAME        docker (default: containers and host processes), process (host processes
                        only, no Docker) or none (control plane only, runs no tasks)
  --node-grace-ms MS    a node silent this long is marked down and its tasks move (default: the
                        cluster setting, 5000)
  --image-update-ms MS  cluster default of x-shoal.image_update: watch the tags of services without
                        it every MS (at least 5000; off by default; give every member the same:
                        the leader's applies; a service opts out with image_update: false)
  --mesh                run the service mesh: service names and published ports on every node
                        (needs root; one agent per machine; env SHOAL_MESH=1)
  --log-level LEVEL     trace|debug|info|warn|error (default info)

Examples:
  shoal agent --init
  shoal agent --join /ip4/10.0.0.5/tcp/7946/p2p/12D3KooW... --token SHOAL-1-...
  shoal agent --data-dir /tmp/n2 --listen /ip4/127.0.0.1/tcp/7947 --api 127.0.0.1:7902`;

export function parseAgentArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): AgentConfig | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      'data-dir': { type: 'string' },
      listen: { type: 'string', multiple: true },
      announce: { type: 'string', multiple: true },
      api: { type: 'string', multiple: true },
      'api-socket': { type: 'string' },
      'admin-token': { type: 'string' },
      label: { type: 'string', multiple: true },
      init: { type: 'boolean' },
      join: { type: 'string' },
      token: { type: 'string' },
      'target-voters': { type: 'string' },
      'standby-learners': { type: 'string' },
      'tick-ms': { type: 'string' },
      'snapshot-every': { type: 'string' },
      'voter-grace-ms': { type: 'string' },
      'node-grace-ms': { type: 'string' },
      'image-update-ms': { type: 'string' },
      runtime: { type: 'string' },
      mdns: { type: 'boolean' },
      mesh: { type: 'boolean' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const root = process.getuid?.() === 0;
  const dataDir = values['data-dir'] ?? env.SHOAL_DATA_DIR ?? (root ? '/var/lib/shoal' : join(homedir(), '.shoal'));
  const labels: Record<string, string> = {};
  for (const pair of values.label ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new AgentConfigError(`--label ${pair}: expected KEY=VALUE, e.g. --label zone=eu`);
    labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const token = values.token ?? env.SHOAL_JOIN_TOKEN;
  if (values.join && !token)
    throw new AgentConfigError(
      '--join needs a join token: pass --token or set SHOAL_JOIN_TOKEN (get one with `shoal token show` on a member)',
    );
  if (values.join && values.init)
    throw new AgentConfigError('--init and --join exclude each other: create a cluster or join one');
  return {
    dataDir,
    listen: values.listen ?? [root ? '/ip4/0.0.0.0/tcp/7946' : '/ip4/127.0.0.1/tcp/7946'],
    announce: values.announce ?? [],
    apiSocket: values['api-socket'] ?? join(dataDir, 'shoal.sock'),
    apiListen: (values.api ?? ['127.0.0.1:7900']).filter((addr) => addr !== '' && addr !== 'none'),
    adminToken: values['admin-token'] ?? env.SHOAL_ADMIN_TOKEN,
    tickMs: positiveInt(values['tick-ms'] ?? '100', '--tick-ms', 60_000),
    labels,
    logLevel: values['log-level'] ?? env.SHOAL_LOG_LEVEL ?? 'info',
    init: values.init ?? false,
    join: values.join ? { address: values.join, token: token! } : undefined,
    voterReplaceGraceMs: positiveInt(values['voter-grace-ms'] ?? '30000', '--voter-grace-ms', WEEK_MS),
    targetVoters: parseTargetVoters(values['target-voters'] ?? 'auto'),
    standbyLearners: values['standby-learners'] ? nonNegativeInt(values['standby-learners'], '--standby-learners') : 2,
    snapshotEvery: positiveInt(values['snapshot-every'] ?? '10000', '--snapshot-every'),
    mdns: values.mdns ?? false,
    runtime: parseRuntime(values.runtime ?? env.SHOAL_RUNTIME ?? 'docker'),
    nodeDownGraceMs: values['node-grace-ms']
      ? positiveInt(values['node-grace-ms'], '--node-grace-ms', WEEK_MS)
      : undefined,
    ...(values['image-update-ms'] ? { imageUpdateMs: imageUpdateMs(values['image-update-ms']) } : {}),
    mesh: values.mesh ?? env.SHOAL_MESH === '1',
  };
}

/** `--image-update-ms`: as `x-shoal.image_update.interval`, at least 5 s. */
function imageUpdateMs(text: string): number {
  const ms = positiveInt(text, '--image-update-ms', WEEK_MS);
  if (ms < 5_000) throw new AgentConfigError(`--image-update-ms: expected at least 5000, got ${ms}`);
  return ms;
}

/** A week, in ms: the longest grace period (as the cluster settings allow), well under Node's timer limit. */
const WEEK_MS = 7 * 24 * 3600 * 1000;

function positiveInt(text: string, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0 || value > max)
    throw new AgentConfigError(
      `${flag}: expected a positive integer${max < Number.MAX_SAFE_INTEGER ? ` of at most ${max}` : ''}, got "${text}"`,
    );
  return value;
}

function nonNegativeInt(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 1_000)
    throw new AgentConfigError(`${flag}: expected an integer from 0 to 1000, got "${text}"`);
  return value;
}

function parseRuntime(text: string): 'docker' | 'process' | 'none' {
  if (text === 'docker' || text === 'process' || text === 'none') return text;
  throw new AgentConfigError(`--runtime: expected docker, process or none, got "${text}"`);
}

function parseTargetVoters(text: string): 3 | 5 | 'auto' {
  if (text === '3') return 3;
  if (text === '5') return 5;
  if (text === 'auto') return 'auto';
  throw new AgentConfigError(`--target-voters: expected 3, 5 or auto, got "${text}"`);
}
