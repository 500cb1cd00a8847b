/**
 * ProcessDriver alone: 1,000 `true` tasks (create + start, up to 20 in flight, each awaited
 * through events()), reporting tasks/s and the agent process's own CPU per task
 * (process.cpuUsage()), which is what limits an agent's rate of trivial jobs.
 * Human lines, then the figures as JSON on the last line.
 *
 *   PATH=/work/main/node_modules/.bin:$PATH tsx bench/process-driver.ts [--tasks 1000] [--inflight 20] [--mode launcher|spawn|noperl] [--dir /var/tmp]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ProcessDriver, type ProcessDriverOptions } from '../src/runtime/process/index.js';
import { assignment, BASE_SPEC, task } from '../test/runtime/fixtures.js';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '1000' },
    inflight: { type: 'string', default: '20' },
    mode: { type: 'string', default: 'launcher' },
    // Where the state directory goes: creating a file under this host's /tmp costs ~1 ms of kernel time.
    dir: { type: 'string', default: os.tmpdir() },
  },
});
const TASKS = Number(values.tasks);
const INFLIGHT = Number(values.inflight);
const MODE = values.mode!;
const NODE = 'node-bench';

const stateDir = fs.mkdtempSync(path.join(values.dir!, 'shoal-bench-proc-'));
const options: ProcessDriverOptions = {
  stateDir,
  cgroups: false,
  ...(MODE === 'noperl' ? { perl: null } : {}),
  ...(MODE === 'spawn' ? { launcher: false } : {}),
};
const driver = new ProcessDriver(options);
const spec = { ...BASE_SPEC, runtime: 'process' as const, image: '', command: ['true'], entrypoint: null };

const abort = new AbortController();
const waiters = new Map<string, () => void>();
const died = new Set<string>();
const watching = (async () => {
  for await (const e of driver.events(NODE, abort.signal)) {
    if (e.action !== 'die') continue;
    const w = waiters.get(e.containerId);
    if (w) w();
    else died.add(e.containerId);
  }
})();

let failed = 0;
async function one(i: number): Promise<void> {
  const id = await driver.create(NODE, assignment(task({ id: `b${i}`, slot: i, nodeId: NODE }), spec));
  const done = new Promise<void>((resolve) => waiters.set(id, resolve));
  await driver.start(id);
  if (died.has(id)) waiters.get(id)!();
  await done;
  waiters.delete(id);
}

// Warm-up (the launcher starts lazily; perl's first fork pays page faults).
for (let i = 0; i < 5; i++) await one(-1 - i);

const cpu0 = process.cpuUsage();
const t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: INFLIGHT }, async () => {
    while (next < TASKS) await one(next++);
  }),
);
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const listed = await driver.list(NODE);
const t1 = performance.now();
await driver.list(NODE);
const listMs = performance.now() - t1;
failed = listed.filter((c) => c.status !== 'exited' || c.exitCode !== 0).length;
abort.abort();
await watching;
driver.close();
fs.rmSync(stateDir, { recursive: true, force: true });

const result = {
  mode: MODE,
  dir: values.dir,
  tasks: TASKS,
  inflight: INFLIGHT,
  wallMs: Math.round(wallMs),
  tasksPerSecond: Math.round((TASKS / wallMs) * 1000),
  agentCpuMsPerTask: Number(((cpu.user + cpu.system) / 1000 / TASKS).toFixed(3)),
  agentUserMsPerTask: Number((cpu.user / 1000 / TASKS).toFixed(3)),
  agentSystemMsPerTask: Number((cpu.system / 1000 / TASKS).toFixed(3)),
  listMsAt1000: Number(listMs.toFixed(2)),
  failed,
};
console.log(`ProcessDriver (${MODE}): ${TASKS} x true, ${INFLIGHT} in flight: ${result.tasksPerSecond} tasks/s`);
console.log(
  `agent CPU per task: ${result.agentCpuMsPerTask} ms (user ${result.agentUserMsPerTask}, system ${result.agentSystemMsPerTask})`,
);
console.log(`list() of ${listed.length} containers: ${result.listMsAt1000} ms; not exited 0: ${failed}`);
console.log(JSON.stringify(result));
