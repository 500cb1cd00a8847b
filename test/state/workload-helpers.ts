/** Builders of workload commands and machines shared by the workload state tests. */
import { hashService, parseStack, type ServiceSpec, type StackSpec } from '../../src/stack/index.js';
import {
  ClusterStateMachine,
  type ApplyResult,
  type Command,
  type CommandInput,
  type StackDeployCommand,
} from '../../src/state/index.js';
import { T0, entries, init, peerId, register } from './helpers.js';

/** The Compose file of the `web` stack the tests deploy: one service of each kind but cron. */
export const WEB_YAML = `
services:
  api:
    image: nginx:1.27
    deploy:
      replicas: 2
  agent:
    image: agent:1
    deploy:
      mode: global
  batch:
    image: python:3.12
    x-shoal:
      kind: job
`;

/** Parse a stack with the real parser, failing loudly on errors. */
export function stackSpec(yaml: string, name: string): StackSpec {
  const result = parseStack(yaml, { file: 'compose.yml', name });
  if (!result.ok) throw new Error(`test stack does not parse: ${JSON.stringify(result.errors)}`);
  return result.spec;
}

/** A copy of `spec` with some fields changed (a new image, other replicas…). */
export function withSpec(spec: ServiceSpec, change: Partial<ServiceSpec>): ServiceSpec {
  return { ...spec, ...change };
}

/** `stack.deploy` of `stack`, optionally only some services or with specs replaced. */
export function deployOf(
  stack: StackSpec,
  at: number,
  specs: Readonly<Record<string, ServiceSpec>> = stack.services,
): StackDeployCommand {
  return {
    v: 1,
    type: 'stack.deploy',
    name: stack.name,
    services: Object.values(specs).map((spec) => ({ name: spec.name, spec, specHash: hashService(spec) })),
    at,
  };
}

/** A full command from what a controller writes, stamped at `at`. */
export function stamp(input: CommandInput, at: number): Command {
  return { ...input, v: 1, at } as Command;
}

/** Apply `command` as the next entry. */
export function applyNext(machine: ClusterStateMachine, command: Command | Uint8Array): ApplyResult {
  return machine.apply(entries([command], machine.appliedIndex + 1)[0]!);
}

/** Apply all, failing the test on any refusal. */
export function applyAll(machine: ClusterStateMachine, commands: readonly Command[]): void {
  for (const command of commands) {
    const result = applyNext(machine, command);
    if (!result.ok) throw new Error(`expected ${command.type} to apply: ${result.error}`);
  }
}

export const WEB = stackSpec(WEB_YAML, 'web');

/** A machine with nodes 1..3 registered and the `web` stack deployed at T0 + 10. */
export function deployed(): ClusterStateMachine {
  const machine = new ClusterStateMachine();
  applyAll(machine, [init(), register(1), register(2), register(3), deployOf(WEB, T0 + 10)]);
  return machine;
}

/** The `web_api` tasks `web-api-1` and `web-api-2`, created at T0 + 20. */
export function apiTasks(at = T0 + 20): Command {
  return stamp(
    {
      type: 'task.create',
      tasks: [1, 2].map((slot) => ({ id: `web-api-${slot}`, serviceId: 'web_api', slot, serviceVersion: 1 })),
    },
    at,
  );
}

/** `deployed()` plus the two api tasks, assigned to nodes 1 and 2 (generations 1 and 2). */
export function running(): ClusterStateMachine {
  const machine = deployed();
  applyAll(machine, [
    apiTasks(),
    stamp(
      {
        type: 'task.assign',
        assignments: [
          { taskId: 'web-api-1', nodeId: peerId(1), gpus: [] },
          { taskId: 'web-api-2', nodeId: peerId(2), gpus: [] },
        ],
      },
      T0 + 30,
    ),
  ]);
  return machine;
}

/** A report of one task from its node's runtime. */
export function reportOf(
  node: number,
  taskId: string,
  generation: number,
  state: 'assigned' | 'preparing' | 'starting' | 'running' | 'complete' | 'shutdown' | 'failed' | 'rejected',
  at: number,
  extra: { message?: string; exitCode?: number | null; containerId?: string | null; restarts?: number } = {},
): Command {
  return stamp(
    {
      type: 'task.report',
      nodeId: peerId(node),
      reports: [
        {
          taskId,
          generation,
          state,
          message: extra.message ?? '',
          exitCode: extra.exitCode ?? null,
          containerId: extra.containerId ?? `c-${taskId}`,
          restarts: extra.restarts ?? 0,
        },
      ],
    },
    at,
  );
}
