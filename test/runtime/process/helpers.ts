/** Builders and waits for the process runtime's tests: real processes, a temp state directory. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServiceSpec } from '../../../src/stack/spec.js';
import type { ContainerDriver, ObservedContainer, LogLine, RunnableAssignment } from '../../../src/runtime/index.js';
import { assignment, BASE_SPEC, task } from '../fixtures.js';

export const NODE = 'node-a';

/** A process-runtime spec running `argv`. */
export function processSpec(argv: string[], overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return { ...BASE_SPEC, runtime: 'process', image: '', command: argv, entrypoint: null, ...overrides };
}

export function sh(script: string, overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return processSpec(['/bin/sh', '-c', script], overrides);
}

let next = 0;
export function processTask(
  spec: ServiceSpec,
  overrides: Parameters<typeof task>[0] | object = {},
): RunnableAssignment {
  return assignment(task({ id: `t${++next}`, ...overrides }), spec);
}

const temps: string[] = [];

/** A fresh temp directory, deleted by {@link removeTempDirs}. */
export function tempDir(prefix = 'shoal-proc-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** Deletes the temp directories made so far (call in afterAll, after the processes are removed). */
export function removeTempDirs(): void {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Polls `list` until `pred` holds for container `id` (bounded: 10 s). */
export async function waitFor(
  driver: ContainerDriver,
  id: string,
  pred: (c: ObservedContainer) => boolean,
): Promise<ObservedContainer> {
  let last: ObservedContainer | undefined;
  for (let i = 0; i < 1000; i++) {
    last = (await driver.list(NODE)).find((c) => c.id === id);
    if (last && pred(last)) return last;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`container ${id} never matched; last seen: ${JSON.stringify(last)}`);
}

export const exited = (c: ObservedContainer) => c.status === 'exited';

/** Polls the logs until one line contains `text` (bounded: 10 s). */
export async function waitForLine(driver: ContainerDriver, id: string, text: string): Promise<LogLine[]> {
  for (let i = 0; i < 1000; i++) {
    const lines = await collect(driver.logs(id));
    if (lines.some((l) => l.line.includes(text))) return lines;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`container ${id} never printed ${text}`);
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Whether a process with this pid exists (zombies count as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
