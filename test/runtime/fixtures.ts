/** Builders for runtime tests: specs from real Compose text, task records, observed containers. */
import { parseStackOrThrow } from '../../src/stack/index.js';
import type { RestartPolicySpec, ServiceSpec } from '../../src/stack/spec.js';
import type { TaskRecord } from '../../src/state/workloads.js';
import type { ObservedContainer, RunnableAssignment } from '../../src/runtime/index.js';

/** A service spec parsed from the body of one Compose service (indented YAML under `services.<name>:`). */
export function serviceFromCompose(body: string, name = 'web', stack = 'app', topLevel = ''): ServiceSpec {
  const indented = body
    .trim()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
  const spec = parseStackOrThrow(`services:\n  ${name}:\n${indented}\n${topLevel}`, {
    file: '/tmp/compose.yml',
    name: stack,
  });
  return spec.services[name]!;
}

export const BASE_SPEC = serviceFromCompose('image: shoal-test/busybox:latest');

export function withPolicy(spec: ServiceSpec, policy: Partial<RestartPolicySpec>): ServiceSpec {
  return { ...spec, deploy: { ...spec.deploy, restartPolicy: { ...spec.deploy.restartPolicy, ...policy } } };
}

export function task(overrides: Partial<TaskRecord> & { id: string }): TaskRecord {
  return {
    serviceId: 'app_web',
    slot: 1,
    serviceVersion: 1,
    nodeId: 'node-a',
    generation: 1,
    gpus: [],
    desiredState: 'running',
    state: 'assigned',
    message: '',
    exitCode: null,
    containerId: null,
    restarts: 0,
    createdAt: 0,
    updatedAt: 0,
    ...overrides,
  };
}

export function assignment(t: TaskRecord, spec: ServiceSpec = BASE_SPEC, stack = 'app'): RunnableAssignment {
  return { task: t, service: { id: `${stack}_${spec.name}`, stack, name: spec.name, version: t.serviceVersion, spec } };
}

export function container(
  overrides: Partial<ObservedContainer> & { id: string; taskId: string | null },
): ObservedContainer {
  return {
    name: `shoal-app_web.1.${overrides.taskId}`,
    nodeId: 'node-a',
    generation: 1,
    labels: {},
    status: 'running',
    exitCode: null,
    health: 'none',
    healthOutput: '',
    startedAt: 1000,
    finishedAt: null,
    error: '',
    oomKilled: false,
    stopSignal: null,
    stopGraceMs: null,
    ...overrides,
  };
}
