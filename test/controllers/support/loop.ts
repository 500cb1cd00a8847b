/** Driving a {@link World} with the real controllers: one pass, or passes until quiet. */
import {
  reconcileWorkloads,
  type WorkloadCommandInput,
  type WorkloadReconcileInput,
} from '../../../src/controllers/index.js';
import type { World } from './world.js';

export type PassOptions = Omit<WorkloadReconcileInput, 'state' | 'now' | 'newId'>;

/** One controller pass: reconcile, then apply what it proposed. Returns the commands. */
export function pass(world: World, options: PassOptions = {}): WorkloadCommandInput[] {
  const commands = reconcileWorkloads({ state: world.state, now: world.now, newId: world.newId, ...options });
  world.apply(commands);
  return commands;
}

/**
 * `rounds` rounds of: controller pass, node runtimes step, one virtual second. Bounded, so a
 * controller that never settles fails the test's assertions instead of hanging.
 */
export function run(
  world: World,
  rounds: number,
  options: PassOptions & { partitioned?: ReadonlySet<string>; stepMs?: number } = {},
): void {
  const { partitioned, stepMs, ...passOptions } = options;
  for (let i = 0; i < rounds; i++) {
    pass(world, passOptions);
    world.runtimes(partitioned);
    world.tick(stepMs ?? 1000);
  }
}

/** Commands of one type from a pass. */
export function ofType<T extends WorkloadCommandInput['type']>(
  commands: readonly WorkloadCommandInput[],
  type: T,
): Extract<WorkloadCommandInput, { type: T }> | undefined {
  return commands.find((c) => c.type === type) as Extract<WorkloadCommandInput, { type: T }> | undefined;
}
