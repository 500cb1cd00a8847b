/**
 * The controllers against the real replicated state machine (src/state): every command they
 * propose is encoded and validated as on the wire, applied as a log entry, and must not be
 * refused; node runtimes are simulated by `task.report` commands.
 */
import { reconcileWorkloads, type HealthObservation } from '../../src/controllers/index.js';
import { EntryType } from '../../src/raft/types.js';
import { fingerprint, tokenKeyHex } from '../../src/security/index.js';
import { hashService, parseStackOrThrow, type StackSpec } from '../../src/stack/index.js';
import { ClusterStateMachine, encodeCommand, type Command, type CommandInput } from '../../src/state/index.js';
import { isLive } from '../../src/controllers/index.js';

const T0 = 1_764_000_000_000;
const peer = (n: number): string => `12D3KooW${String(n).padStart(4, '0')}${'Cd'.repeat(22)}`;

function stack(image: string, replicas: number): StackSpec {
  return parseStackOrThrow(
    `services:\n  web:\n    image: ${image}\n    deploy:\n      replicas: ${replicas}\n      update_config:\n        parallelism: 1\n  agent:\n    image: agent:1\n    deploy:\n      mode: global\n`,
    { file: '/tmp/compose.yml', name: 'lab' },
  );
}

class Cluster {
  readonly machine = new ClusterStateMachine();
  now = T0;
  #index = 0;
  #ids = 0;
  readonly heartbeats = new Map<string, number>();
  readonly silent = new Set<string>();

  submit(input: CommandInput | { readonly type: string }): void {
    const command = { ...input, v: 1, at: this.now } as Command;
    const result = this.machine.apply({
      index: ++this.#index,
      term: 1,
      type: EntryType.Normal,
      data: encodeCommand(command),
    });
    if (!result.ok) throw new Error(`${command.type} refused: ${result.error}`);
  }

  /** One round: heartbeats, a controller pass, each node's runtime reports, one second. */
  round(health: boolean): void {
    for (const node of this.machine.nodes()) if (!this.silent.has(node.id)) this.heartbeats.set(node.id, this.now);
    const observation: HealthObservation = { lastHeartbeat: this.heartbeats, leaderSince: T0, graceMs: 5000 };
    const commands = reconcileWorkloads({
      state: this.machine.state(),
      now: this.now,
      newId: () => `task-${++this.#ids}`,
      ...(health ? { health: observation } : {}),
    });
    for (const c of commands) this.submit(c);
    for (const node of this.machine.nodes()) {
      if (this.silent.has(node.id)) continue;
      const reports = this.machine
        .tasks()
        .filter((t) => t.nodeId === node.id && ['assigned', 'running'].includes(t.state))
        .filter((t) => t.state === 'assigned' || t.desiredState === 'shutdown')
        .map((t) => ({
          taskId: t.id,
          generation: t.generation,
          state: t.desiredState === 'shutdown' ? ('shutdown' as const) : ('running' as const),
          message: '',
          exitCode: null,
          containerId: `c-${t.id}`,
          restarts: 0,
        }));
      if (reports.length > 0) this.submit({ type: 'task.report', nodeId: node.id, reports });
    }
    this.now += 1000;
  }

  deploy(spec: StackSpec): void {
    this.submit({
      type: 'stack.deploy',
      name: spec.name,
      services: Object.values(spec.services).map((s) => ({ name: s.name, spec: s, specHash: hashService(s) })),
    });
  }

  /** Live tasks of a service as `slot@node:version:state`, sorted. */
  live(serviceId: string): string[] {
    return this.machine
      .tasks()
      .filter((t) => t.serviceId === serviceId && isLive(t))
      .map((t) => `${t.slot}@${t.nodeId === null ? '-' : t.nodeId.slice(8, 12)}:v${t.serviceVersion}:${t.state}`)
      .sort();
  }
}

function started(): Cluster {
  const c = new Cluster();
  const key = tokenKeyHex('a'.repeat(32));
  c.submit({
    type: 'cluster.init',
    clusterId: 'k3v7q2m7xa4bnc5d',
    name: 'lab',
    tokenKey: key,
    fingerprint: fingerprint(key),
  });
  for (let n = 1; n <= 3; n++) {
    c.submit({
      type: 'node.register',
      id: peer(n),
      hostname: `node-${n}`,
      addresses: [`/ip4/10.0.0.${n}/tcp/7946`],
      labels: {},
      resources: { cpus: 4, memoryBytes: 8 * 2 ** 30, gpus: [] },
      roles: { voter: 'auto', workloads: true },
      version: '0.1.0',
    });
  }
  c.deploy(stack('nginx:1', 3));
  for (let i = 0; i < 3; i++) c.round(false);
  return c;
}

describe('reconcileWorkloads() with the real state machine', () => {
  it('deploys a stack: 3 replicas spread over the nodes, one agent per node', () => {
    const c = started();
    expect(c.live('lab_web').map((s) => s.replace(/@\d+/, ''))).toEqual([
      '1:v1:running',
      '2:v1:running',
      '3:v1:running',
    ]);
    expect(new Set(c.live('lab_web').map((s) => s.split('@')[1]!.split(':')[0])).size).toBe(3);
    expect(c.live('lab_agent')).toEqual(['0@0001:v1:running', '0@0002:v1:running', '0@0003:v1:running']);
  });

  it('scales, survives a silent node, and does not duplicate when it returns', () => {
    const c = started();
    c.submit({ type: 'service.scale', serviceId: 'lab_web', replicas: 5 });
    for (let i = 0; i < 3; i++) c.round(true);
    expect(c.live('lab_web')).toHaveLength(5);
    c.silent.add(peer(3));
    for (let i = 0; i < 10; i++) c.round(true);
    expect(c.machine.node(peer(3))!.status).toBe('down');
    expect(c.live('lab_web').map((s) => s.split('@')[0])).toEqual(['1', '2', '3', '4', '5']);
    expect(c.live('lab_web').every((s) => !s.includes('@0003'))).toBe(true);
    c.silent.delete(peer(3));
    // Long enough for one rebalancing move back onto it (start-first, done after monitor, 5 s).
    for (let i = 0; i < 12; i++) c.round(true);
    expect(c.machine.node(peer(3))!.status).toBe('ready');
    expect(c.live('lab_web')).toHaveLength(5);
    expect(c.live('lab_web').filter((s) => s.includes('@0003'))).toHaveLength(1);
    expect(c.live('lab_agent')).toEqual(['0@0001:v1:running', '0@0002:v1:running', '0@0003:v1:running']);
  });

  it('rolls out a new image and removes a stack, collecting its tasks', () => {
    const c = started();
    c.deploy(stack('nginx:2', 3));
    for (let i = 0; i < 20; i++) c.round(false);
    expect(c.live('lab_web').map((s) => s.replace(/@\d+/, ''))).toEqual([
      '1:v2:running',
      '2:v2:running',
      '3:v2:running',
    ]);
    c.submit({ type: 'stack.remove', name: 'lab' });
    for (let i = 0; i < 3; i++) c.round(false);
    expect(c.machine.tasks()).toEqual([]);
  });
});
