/**
 * Where a rollout's time goes, from the engine's own events: for each new container, when it was
 * created, started, and first reported healthy, in seconds after the update command (and, for
 * shoal, when the API first showed its task `running`). Recorded from Docker's event stream
 * during the rollout (a container's health log keeps only its last 5 checks).
 */
import type { Readable } from 'node:stream';
import Docker from 'dockerode';

export interface ContainerPhases {
  readonly id: string;
  readonly createdS: number | null;
  readonly startedS: number | null;
  readonly healthyS: number | null;
  /** shoal only: when the bench first saw its task `running` through the API. */
  readonly reportedS?: number;
}

interface Times {
  create?: number;
  start?: number;
  healthy?: number;
}

interface DockerEvent {
  readonly status?: string;
  readonly id?: string;
  readonly from?: string;
  readonly timeNano?: number;
}

export interface PhaseRecorder {
  /** Stop listening; the containers of `image` (as created), oldest first. */
  stop(commandAt: number, reportedAt?: ReadonlyMap<string, number>): ContainerPhases[];
}

/** Starts recording the engine's container events for containers created from `image`. */
export async function recordPhases(docker: Docker, image: string): Promise<PhaseRecorder> {
  const times = new Map<string, Times>();
  const stream = (await docker.getEvents({
    filters: { type: ['container'], event: ['create', 'start', 'health_status'] },
  })) as Readable;
  let buffered = '';
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      const event = JSON.parse(line) as DockerEvent;
      if (!event.id || !event.timeNano) continue;
      const at = event.timeNano / 1e6;
      const t = times.get(event.id) ?? {};
      if (event.status === 'create' && event.from?.startsWith(image)) t.create = at;
      else if (event.status === 'start') t.start ??= at;
      else if (event.status === 'health_status: healthy') t.healthy ??= at;
      times.set(event.id, t);
    }
  });
  stream.on('error', () => undefined);
  return {
    stop: (commandAt, reportedAt = new Map()) => {
      stream.destroy();
      const since = (at: number | undefined) => (at === undefined ? null : (at - commandAt) / 1000);
      return [...times.entries()]
        .filter(([, t]) => t.create !== undefined)
        .map(([id, t]) => {
          const reported = reportedAt.get(id);
          return {
            id: id.slice(0, 12),
            createdS: since(t.create),
            startedS: since(t.start),
            healthyS: since(t.healthy),
            ...(reported === undefined ? {} : { reportedS: (reported - commandAt) / 1000 }),
          };
        })
        .sort((a, b) => (a.createdS ?? 0) - (b.createdS ?? 0));
    },
  };
}

/** One line per container: created, started, healthy (and reported), s after the command. */
export function showPhases(phases: readonly ContainerPhases[]): string {
  const s = (x: number | null | undefined) => (x === null || x === undefined ? '     -' : x.toFixed(2).padStart(6));
  return phases
    .map(
      (p) =>
        `  ${p.id} created ${s(p.createdS)}  started ${s(p.startedS)}  healthy ${s(p.healthyS)}${p.reportedS === undefined ? '' : `  running in shoal's API ${s(p.reportedS)}`}`,
    )
    .join('\n');
}
