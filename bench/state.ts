/**
 * What one commit costs as the state grows: for 1,000 / 10,000 / 100,000 running tasks on 100
 * nodes, the time of one `task.report` of one task (decode + apply on every peer, plus the
 * leader's controller pass that follows it, scoped by the change set the state machine took, as
 * the agent runs it) and of a snapshot (encode and decode). The full pass, the leader's safety net
 * every 5 s, is timed too (`full_pass_us_*`), and so is what a node's runtime does after that
 * commit: its assignments from the node index (`node_assignments_us_*`, the node of the reported
 * task: O(its 1/100 of the tasks), not O(all tasks)). Snapshot times are the median of 3.
 * Goal (issue 13): report_us_100k <= 1,000 and at most 2 x report_us_1k.
 *
 * Run: `npm run bench:state [-- --sizes 1000,10000]`. The last line is a JSON object.
 */
import { parseArgs } from 'node:util';
import { reconcileWorkloads } from '../src/controllers/index.js';
import { EntryType } from '../src/raft/types.js';
import { assignmentsFor } from '../src/runtime/index.js';
import { fingerprint, tokenKeyHex } from '../src/security/index.js';
import { hashService, parseStack } from '../src/stack/index.js';
import { ClusterStateMachine, encodeCommand, type Command, type CommandInput } from '../src/state/index.js';

const NODES = 100;
const PER_SERVICE = 1000;
/** Commits timed per size: as many at every size, now that none costs a whole pass (GC included in the mean). */
const roundsFor = (_tasks: number) => 400;
const T0 = Date.UTC(2026, 0, 1);

const peer = (n: number) => `12D3KooW${String(n).padStart(4, '0')}${'Ab'.repeat(22)}`;
const taskId = (i: number) => `t${String(i).padStart(7, '0')}`;

class Machine {
  readonly sm = new ClusterStateMachine();
  at = T0;

  apply(input: CommandInput | Command): ReturnType<ClusterStateMachine['apply']> {
    const command = { ...input, v: 1, at: ++this.at } as Command;
    const data = encodeCommand(command);
    const result = this.sm.apply({ index: this.sm.appliedIndex + 1, term: 1, type: EntryType.Normal, data });
    if (!result.ok) throw new Error(`${command.type}: ${result.error}`);
    return result;
  }
}

function build(tasks: number): Machine {
  const m = new Machine();
  const tokenKey = tokenKeyHex('b'.repeat(32));
  m.apply({
    type: 'cluster.init',
    clusterId: 'k3v7q2m7xa4bnc5d',
    name: 'bench',
    tokenKey,
    fingerprint: fingerprint(tokenKey),
  } as CommandInput);
  for (let n = 1; n <= NODES; n++) {
    m.apply({
      type: 'node.register',
      id: peer(n),
      hostname: `host-${n}`,
      addresses: [`/ip4/10.0.${n >> 8}.${n & 255}/tcp/7946`],
      labels: {},
      resources: { cpus: 64, memoryBytes: 256 * 2 ** 30, gpus: [] },
      roles: { voter: 'auto', workloads: true },
      version: '0.1.0',
    } as CommandInput);
  }
  const services = Math.ceil(tasks / PER_SERVICE);
  const yaml = `services:\n${Array.from(
    { length: services },
    (_, s) =>
      `  s${s}:\n    image: app:1\n    deploy:\n      replicas: ${PER_SERVICE}\n      resources:\n        reservations:\n          cpus: '0.01'\n`,
  ).join('')}`;
  const parsed = parseStack(yaml, { file: 'bench.yml', name: 'bench' });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  m.apply({
    type: 'stack.deploy',
    name: 'bench',
    services: Object.values(parsed.spec.services).map((spec) => ({
      name: spec.name,
      spec,
      specHash: hashService(spec),
    })),
  } as CommandInput);
  for (let from = 0; from < tasks; from += 10_000) {
    const ids = Array.from({ length: Math.min(10_000, tasks - from) }, (_, k) => from + k);
    m.apply({
      type: 'task.create',
      tasks: ids.map((i) => ({
        id: taskId(i),
        serviceId: `bench_s${Math.floor(i / PER_SERVICE)}`,
        slot: (i % PER_SERVICE) + 1,
        serviceVersion: 1,
      })),
    } as CommandInput);
    m.apply({
      type: 'task.assign',
      assignments: ids.map((i) => ({ taskId: taskId(i), nodeId: peer(1 + (i % NODES)), gpus: [] })),
    } as CommandInput);
    for (let n = 1; n <= NODES; n++) {
      const mine = ids.filter((i) => 1 + (i % NODES) === n);
      m.apply({
        type: 'task.report',
        nodeId: peer(n),
        reports: mine.map((i) => ({
          taskId: taskId(i),
          generation: m.sm.task(taskId(i))!.generation,
          state: 'running',
          message: '',
          exitCode: null,
          containerId: `c${i}`,
          restarts: 0,
        })),
      } as CommandInput);
    }
  }
  return m;
}

/** One leader pass: scoped by the changes since the last pass, or full. */
function pass(m: Machine, full: boolean): number {
  const heard = new Map(Array.from({ length: NODES }, (_, n) => [peer(n + 1), m.at] as const));
  const changes = m.sm.takeChanges();
  const commands = reconcileWorkloads({
    state: m.sm.view(),
    ...(full ? {} : { changes }),
    now: m.at,
    newId: () => 'x',
    health: { lastHeartbeat: heard, leaderSince: T0 },
  });
  return commands.length;
}

function measure(tasks: number) {
  const m = build(tasks);
  if (m.sm.tasks().length !== tasks) throw new Error(`built ${m.sm.tasks().length} tasks, wanted ${tasks}`);
  // warm up as a steady leader: its first pass is full, and change tracking starts there
  pass(m, true);
  let applyUs = 0;
  let passUs = 0;
  let fullUs = 0;
  let nodeUs = 0;
  let leftover = 0;
  const ROUNDS = roundsFor(tasks);
  for (let r = 0; r < ROUNDS; r++) {
    const i = (r * 7919) % tasks;
    const task = m.sm.task(taskId(i))!;
    const report: CommandInput = {
      type: 'task.report',
      nodeId: task.nodeId!,
      reports: [
        {
          taskId: task.id,
          generation: task.generation,
          state: 'running',
          message: `round ${r}`,
          exitCode: null,
          containerId: `c${i}`,
          restarts: r + 1,
        },
      ],
    } as CommandInput;
    const t0 = performance.now();
    m.apply(report);
    const t1 = performance.now();
    leftover += pass(m, false);
    const t2 = performance.now();
    const view = m.sm.view();
    const mine = assignmentsFor(task.nodeId!, { tasks: view.tasks, services: view.services });
    const t3 = performance.now();
    if (mine.length !== Math.ceil(tasks / NODES)) throw new Error(`node has ${mine.length} assignments`);
    applyUs += (t1 - t0) * 1000;
    passUs += (t2 - t1) * 1000;
    nodeUs += (t3 - t2) * 1000;
  }
  const FULL_ROUNDS = tasks >= 100_000 ? 5 : 20;
  for (let r = 0; r < FULL_ROUNDS; r++) {
    const t0 = performance.now();
    leftover += pass(m, true);
    fullUs += (performance.now() - t0) * 1000;
  }
  const encodeMs: number[] = [];
  const decodeMs: number[] = [];
  let snap: Uint8Array = new Uint8Array();
  for (let r = 0; r < 3; r++) {
    // A new state version each time: nothing is cached from the previous snapshot.
    m.apply({ type: 'node.update', id: peer(1), labels: { round: String(r) } } as CommandInput);
    const s0 = performance.now();
    snap = m.sm.snapshot();
    const s1 = performance.now();
    new ClusterStateMachine().restore(snap, m.sm.appliedIndex);
    encodeMs.push(s1 - s0);
    decodeMs.push(performance.now() - s1);
  }
  return {
    tasks,
    applyUs: applyUs / ROUNDS,
    passUs: passUs / ROUNDS,
    reportUs: (applyUs + passUs) / ROUNDS,
    fullPassUs: fullUs / FULL_ROUNDS,
    nodeAssignmentsUs: nodeUs / ROUNDS,
    snapshotEncodeMs: median(encodeMs),
    snapshotDecodeMs: median(decodeMs),
    snapshotMB: snap.length / 2 ** 20,
    leftoverCommands: leftover,
  };
}

function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
}

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1000,10000,100000' } } });
const sizes = values.sizes!.split(',').map(Number);
const results = sizes.map(measure);
for (const r of results) {
  console.log(
    `${String(r.tasks).padStart(7)} tasks: task.report commit ${r.reportUs.toFixed(0).padStart(7)} µs ` +
      `(apply ${r.applyUs.toFixed(0)} µs + scoped leader pass ${r.passUs.toFixed(0)} µs)   ` +
      `full pass ${r.fullPassUs.toFixed(0)} µs   node assignments ${r.nodeAssignmentsUs.toFixed(0)} µs   snapshot ${r.snapshotMB.toFixed(1)} MB: ` +
      `encode ${r.snapshotEncodeMs.toFixed(0)} ms, decode ${r.snapshotDecodeMs.toFixed(0)} ms` +
      (r.leftoverCommands > 0 ? `   (the passes proposed ${r.leftoverCommands} commands)` : ''),
  );
}
const at = (n: number) => results.find((r) => r.tasks === n);
console.log(
  JSON.stringify({
    report_us_1k: at(1000) ? Math.round(at(1000)!.reportUs) : null,
    report_us_10k: at(10_000) ? Math.round(at(10_000)!.reportUs) : null,
    report_us_100k: at(100_000) ? Math.round(at(100_000)!.reportUs) : null,
    full_pass_us_1k: at(1000) ? Math.round(at(1000)!.fullPassUs) : null,
    full_pass_us_10k: at(10_000) ? Math.round(at(10_000)!.fullPassUs) : null,
    full_pass_us_100k: at(100_000) ? Math.round(at(100_000)!.fullPassUs) : null,
    snapshot_ms_100k: at(100_000) ? Math.round(at(100_000)!.snapshotEncodeMs) : null,
    snapshot_encode_ms_100k: at(100_000) ? Math.round(at(100_000)!.snapshotEncodeMs) : null,
    snapshot_decode_ms_100k: at(100_000) ? Math.round(at(100_000)!.snapshotDecodeMs) : null,
    node_assignments_us_1k: at(1000) ? Math.round(at(1000)!.nodeAssignmentsUs) : null,
    node_assignments_us_100k: at(100_000) ? Math.round(at(100_000)!.nodeAssignmentsUs) : null,
  }),
);
