/**
 * DockerDriver's inspection cache over a real engine: a container that exited, ran again and
 * exited with the same code looks the same in the engine's list, so only our own action or the
 * engine's event can tell the driver to inspect it again (the age limit is set out of reach here).
 */
import type Docker from 'dockerode';
import { DockerDriver, LABELS } from '../../src/runtime/index.js';
import { IMAGE, removeNodeContainers, requireDocker, uniqueNodeId, waitFor } from './docker-harness.js';

let docker: Docker;
const nodeId = uniqueNodeId();

beforeAll(async () => {
  docker = await requireDocker();
}, 120_000);

afterAll(async () => {
  await removeNodeContainers(docker, nodeId);
});

/** A container of this node that runs `true`, already ended once. */
async function endedOnce(): Promise<Docker.Container> {
  const c = await docker.createContainer({
    Image: IMAGE,
    Cmd: ['true'],
    Labels: { [LABELS.nodeId]: nodeId, [LABELS.taskId]: 'cache-1', [LABELS.generation]: '1' },
  });
  await c.start();
  await c.wait();
  return c;
}

async function finishedAt(driver: DockerDriver, id: string): Promise<number | null> {
  return (await driver.list(nodeId)).find((o) => o.id === id)?.finishedAt ?? null;
}

describe('DockerDriver inspection cache', () => {
  it('inspects again after its own start, though the list says the same as before', async () => {
    const driver = new DockerDriver({ docker, pull: 'never', inspectMaxAgeMs: 600_000 });
    const c = await endedOnce();
    const first = await finishedAt(driver, c.id);
    expect(first).not.toBeNull();
    await driver.start(c.id);
    await c.wait();
    expect(await finishedAt(driver, c.id)).toBeGreaterThan(first!);
    await c.remove({ force: true });
  });

  it('inspects again after an engine event (a start by somebody else)', async () => {
    const driver = new DockerDriver({ docker, pull: 'never', inspectMaxAgeMs: 600_000 });
    const c = await endedOnce();
    const first = await finishedAt(driver, c.id);
    const abort = new AbortController();
    const seen: string[] = [];
    const watching = (async () => {
      for await (const e of driver.events(nodeId, abort.signal)) if (e.containerId === c.id) seen.push(e.action);
    })();
    try {
      // Events flow from now on: an earlier start may predate the subscription.
      await new Promise((r) => setTimeout(r, 300));
      await c.start();
      await c.wait();
      await waitFor('the die event', async () => seen.includes('die'));
      expect(await finishedAt(driver, c.id)).toBeGreaterThan(first!);
    } finally {
      abort.abort();
      await watching.catch(() => undefined);
      await c.remove({ force: true });
    }
  });
});
