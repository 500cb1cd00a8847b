/**
 * `npm run bench:scale -- --nodes 100`: N real agents on loopback (`--runtime none`: control
 * plane only), with the observer design (docs/ARCHITECTURE.md, "100 nodes: members and
 * observers"): only the voters (5 from 5 nodes up) and 2 standby learners are Raft members, so
 * the leader replicates every entry to 6 peers, not N-1; every other node is an observer that
 * follows the state through one member's feed (the members share them out by rendezvous hash),
 * sends the leader one presence frame a second, forwards its writes to the leader and reads
 * through the leader's read index. A join registers the node, which starts as an observer from
 * one feed snapshot. Measures the time for N-1 nodes to join (registered), the RSS of each agent,
 * the leader's CPU when idle and under 100 writes/s (node label writes through its admin API),
 * and the p50 commit latency of those writes beside the same load on a 3-node cluster.
 * Last line: JSON with nodes, join_s, leader_cpu_idle_pct, leader_cpu_100wps_pct,
 * commit_p50_ms, commit_p50_ms_3nodes, rss_mb_median.
 * Goals (issue 13): rss_mb_median <= 80, leader_cpu_idle_pct <= 25, commit_p50_ms <= 2 x the 3-node figure.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { parseArgs } from 'node:util';
import { bundle } from '../scripts/bundle.mjs';
import { makeAgents, waitFor, type AgentProcess, type StatusBody } from '../test/agent/support/agents.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '10' },
    'join-batch': { type: 'string', default: '10' },
  },
});
const NODES = Number(values.nodes);
const SECONDS = Number(values.seconds);
const JOIN_BATCH = Number(values['join-batch']);
/** Control plane only, at the production tick (the test harness's default is a faster 50 ms). */
const FLAGS = ['--runtime', 'none', '--tick-ms', '100'];
const CLK_TCK = 100;

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/**
 * Proportional set size: RSS with each shared page divided among the processes that map it. The
 * node binary's code pages (about 53 MB resident in an agent) are shared by every agent on the
 * machine, so RSS counts them 100 times where the machine holds them once.
 */
function pssMb(pid: number): number {
  const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function cpuPct(pid: number, ms: number, during?: Promise<unknown>): Promise<number> {
  const t0 = cpuTicks(pid);
  const start = performance.now();
  await Promise.all([new Promise((r) => setTimeout(r, ms)), during]);
  return (((cpuTicks(pid) - t0) / CLK_TCK) * 100_000) / (performance.now() - start);
}

function labelWrite(agent: AgentProcess, nodeId: string, i: number): Promise<number> {
  const body = JSON.stringify({ add: { bench: `w${i}` } });
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: agent.socket,
        agent: false,
        method: 'POST',
        path: `/v1/nodes/${nodeId}/labels`,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`HTTP ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `rate` writes/s for `seconds` to the leader; their latencies. */
async function load(agent: AgentProcess, nodeId: string, rate: number, seconds: number): Promise<number[]> {
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  for (let i = 0; i < rate * seconds; i++) {
    pending.push(
      labelWrite(agent, nodeId, i).then(
        (ms) => void latencies.push(ms),
        () => undefined,
      ),
    );
    await new Promise((r) => setTimeout(r, 1000 / rate));
  }
  await Promise.all(pending);
  return latencies;
}

async function leaderOf(agents: readonly AgentProcess[]): Promise<{ leader: AgentProcess; id: string }> {
  const dead = agents.filter((a) => !a.running);
  if (dead.length > 0) {
    const last = dead[0]!.output.trim().split('\n').slice(-3).join('\n');
    throw new Error(
      `${dead.length} agents exited (${dead.map((a) => a.name).join(', ')}); ${dead[0]!.name}'s log ends:\n${last}`,
    );
  }
  const status = await agents[0]!.api<StatusBody & { nodeId: string }>('GET', '/v1/status');
  for (const agent of agents) {
    const me = await agent.api<{ nodeId: string }>('GET', '/v1/status?stale=1').catch(() => null);
    if (me?.body.nodeId === status.body.leader) return { leader: agent, id: me.body.nodeId };
  }
  throw new Error('no leader found');
}

async function cluster(n: number): Promise<{ agents: AgentProcess[]; cleanup: () => Promise<void>; joinS: number }> {
  const { agents, cleanup } = makeAgents(n, 'shoal-bench-scale-');
  process.once('exit', () => agents.forEach((a) => a.running && process.kill(a.pid!, 'SIGKILL')));
  const [first, ...rest] = agents;
  first!.start(['--init', ...FLAGS]);
  await first!.waitForApi(60_000);
  let token = '';
  await waitFor('the join token', async () => {
    const reply = await first!.api<{ token: string }>('GET', '/v1/token');
    token = reply.status === 200 ? reply.body.token : '';
    return token !== '';
  });
  const status = await first!.api<StatusBody>('GET', '/v1/status');
  const joinAddress = status.body.members.find((m) => m.id === status.body.leader)!.addresses[0]!;
  const started = performance.now();
  for (let i = 0; i < rest.length; i += JOIN_BATCH) {
    const batch = rest.slice(i, i + JOIN_BATCH);
    for (const agent of batch) agent.start(['--join', joinAddress, '--token', token, ...FLAGS]);
    await Promise.all(batch.map((agent) => agent.waitForApi(120_000)));
  }
  await waitFor(
    `${n} nodes registered`,
    async () => {
      const nodes = await first!.api<unknown[]>('GET', '/v1/nodes?stale=1').catch(() => null);
      return nodes?.status === 200 && nodes.body.length === n;
    },
    600_000,
  );
  return { agents, cleanup, joinS: (performance.now() - started) / 1000 };
}

async function main(): Promise<void> {
  await bundle();
  // the 3-node reference first, alone on the machine
  const small = await cluster(3);
  const s = await leaderOf(small.agents);
  await new Promise((r) => setTimeout(r, 3_000));
  const small100 = await load(s.leader, s.id, 100, SECONDS);
  const commit3 = median(small100);
  await small.cleanup();
  console.log(`3 nodes: commit p50 ${commit3.toFixed(1)} ms at 100 writes/s (${small100.length} writes)`);

  const big = await cluster(NODES);
  try {
    console.log(`${NODES} nodes joined in ${big.joinS.toFixed(1)} s`);
    await new Promise((r) => setTimeout(r, 10_000)); // settle: promotions, address syncs
    const { leader, id } = await leaderOf(big.agents);
    const shape = await leader.api<StatusBody>('GET', '/v1/status');
    const count = (role: string) => shape.body.members.filter((m) => m.raftRole === role).length;
    console.log(`${count('voter')} voters, ${count('learner')} learners, ${count('observer')} observers`);
    const rss = big.agents.map((a) => rssMb(a.pid!));
    const pss = big.agents.map((a) => pssMb(a.pid!));
    // Every agent's CPU over the same idle window: 100 processes share this machine's cores.
    const ticks0 = big.agents.map((a) => cpuTicks(a.pid!));
    const idleStart = performance.now();
    const idle = await cpuPct(leader.pid!, SECONDS * 1000);
    const idleMs = performance.now() - idleStart;
    const agentPct = big.agents.map((a, i) => (((cpuTicks(a.pid!) - ticks0[i]!) / CLK_TCK) * 100_000) / idleMs);
    const allIdle = agentPct.reduce((sum, x) => sum + x, 0);
    let latencies: number[] = [];
    const busy = await cpuPct(
      leader.pid!,
      SECONDS * 1000,
      load(leader, id, 100, SECONDS).then((l) => void (latencies = l)),
    );
    const totalIdle = big.agents.reduce((sum, a) => sum + rssMb(a.pid!), 0);
    const result = {
      nodes: NODES,
      join_s: Number(big.joinS.toFixed(1)),
      leader_cpu_idle_pct: Number(idle.toFixed(1)),
      leader_cpu_100wps_pct: Number(busy.toFixed(1)),
      commit_p50_ms: Number(median(latencies).toFixed(1)),
      commit_p50_ms_3nodes: Number(commit3.toFixed(1)),
      rss_mb_median: Number(median(rss).toFixed(0)),
      pss_mb_median: Number(median(pss).toFixed(0)),
      all_agents_cpu_idle_pct: Number(allIdle.toFixed(0)),
      agent_cpu_idle_pct_median: Number(median(agentPct).toFixed(1)),
    };
    console.log(
      `RSS median ${result.rss_mb_median} MB, PSS ${result.pss_mb_median} MB (all agents ${(totalIdle / 1024).toFixed(1)} GB); leader CPU idle ${result.leader_cpu_idle_pct} %, ` +
        `under 100 writes/s ${result.leader_cpu_100wps_pct} %; all agents idle ${result.all_agents_cpu_idle_pct} % ` +
        `(median agent ${result.agent_cpu_idle_pct_median} %); commit p50 ${result.commit_p50_ms} ms (${latencies.length} writes) vs ${commit3.toFixed(1)} ms on 3 nodes`,
    );
    console.log(JSON.stringify(result));
  } finally {
    await big.cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
