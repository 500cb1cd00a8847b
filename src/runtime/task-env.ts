/**
 * What shoal gives every task, whatever runs it (Docker or a host process): its labels, and an
 * environment saying who it is, its exclusive GPUs, and for batch units which job and array
 * index it runs, under shoal's names and under the Slurm names batch scripts already read.
 * @module
 */
import type { TaskRecord } from '../state/workloads.js';
import { LABELS, type RunnableAssignment } from './types.js';

/** Variables set by shoal, on top of the spec's `environment` (shoal's win). */
export function taskEnvironment(nodeId: string, task: TaskRecord): Record<string, string> {
  const env: Record<string, string> = {
    SHOAL_TASK_ID: task.id,
    SHOAL_TASK_SLOT: String(task.slot),
    SHOAL_NODE_ID: nodeId,
  };
  if (task.gpus.length > 0) {
    // These devices are the task's alone: the scheduler hands each GPU to one task at a time.
    env.CUDA_VISIBLE_DEVICES = task.gpus.join(',');
    env.NVIDIA_VISIBLE_DEVICES = task.gpus.join(',');
  }
  if (task.job !== undefined) {
    const { jobId, index, attempt, requeues } = task.job;
    Object.assign(env, {
      SHOAL_JOB_ID: jobId,
      SHOAL_ARRAY_INDEX: String(index),
      SHOAL_ATTEMPT: String(attempt),
      SHOAL_REQUEUES: String(requeues),
      SLURM_JOB_ID: jobId,
      SLURM_ARRAY_JOB_ID: jobId,
      SLURM_ARRAY_TASK_ID: String(index),
      SLURM_RESTART_COUNT: String(attempt + requeues),
    });
  }
  return env;
}

/** The labels of a task's container (or process): the service's own, then shoal's, which win. */
export function taskLabels(nodeId: string, a: RunnableAssignment): Record<string, string> {
  return {
    ...a.service.spec.labels,
    [LABELS.nodeId]: nodeId,
    [LABELS.taskId]: a.task.id,
    [LABELS.generation]: String(a.task.generation),
    [LABELS.serviceId]: a.service.id,
    [LABELS.stack]: a.service.stack,
    [LABELS.slot]: String(a.task.slot),
    [LABELS.serviceVersion]: String(a.service.version),
  };
}
