/**
 * `shoal stack deploy` waits for the rollouts it started and shows their progress (issue 15), as
 * `kubectl rollout status` and `docker service create` do: per service, tasks updated/wanted and
 * failed, ending with success (exit 0) or the pause or rollback and its reason (exit 1). On a
 * terminal the lines are redrawn in place; otherwise one line is printed per change.
 * @module
 */
import type { ServiceView } from '../../api/types.js';
import type { CliOutput } from '../command.js';
import { ExitCode } from '../errors.js';

/** Rollout states the wait ends on. */
const SUCCESS = new Set(['completed', 'awaiting_promotion']);
const FAILURE = new Set(['paused', 'rolled_back', 'rollback_paused']);

/** Where the wait reads and writes: the stack's services now, and the command's output. */
export interface WaitIo {
  readonly fetchServices: () => Promise<ServiceView[]>;
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
}

export interface WaitOptions {
  /** The services (ids) whose rollouts the deploy started. */
  readonly services: readonly string[];
  /** Poll period; default 1 s. */
  readonly intervalMs?: number;
  /** Redraw in place (a terminal); default: whether stdout is a TTY. */
  readonly tty?: boolean;
  /** Resolves after `ms` (injected so tests need not wait). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** One service's progress line: `web_api   updating 2/3, 0 failed`. */
export function progressLine(view: ServiceView, width: number): string {
  const u = view.update!;
  const name = view.id.padEnd(width);
  const state = u.state.replace(/_/g, ' ');
  // Before the controller's first count, the wanted tasks are the service's desired ones.
  const total = u.total > 0 ? u.total : view.desired;
  const failed = u.failed > 0 ? `, ${u.failed} failed` : '';
  const counts = u.state === 'rolled_back' ? '' : ` ${u.updated}/${total}${failed}`;
  const reason = u.reason === '' ? '' : ` (${u.reason})`;
  return `${name}   ${state}${counts}${reason}`;
}

/** Whether the service's rollout for its current version has ended (or waits for a person). */
function ended(view: ServiceView): boolean {
  const u = view.update;
  if (u === undefined) return true;
  return u.toVersion === view.version && (SUCCESS.has(u.state) || FAILURE.has(u.state));
}

function isTty(out: CliOutput): boolean {
  return 'isTTY' in out && out.isTTY === true;
}

/**
 * Poll the stack's services until every rollout in `services` has ended; print progress.
 * @returns the exit code: 0 when every rollout completed (or awaits promotion), 1 otherwise.
 * @example
 * const fetchServices = () => client.call<ServiceView[]>('GET', '/v1/services', { query: { stack: 'web' } });
 * return await waitForRollouts({ fetchServices, stdout, stderr }, { services: ['web_api'] });
 */
export async function waitForRollouts(io: WaitIo, options: WaitOptions): Promise<number> {
  const tty = options.tty ?? isTty(io.stdout);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const wanted = new Set(options.services);
  const width = Math.max(0, ...options.services.map((s) => s.length));
  const printed = new Map<string, string>();
  let drawn = 0;
  for (;;) {
    const views = await io.fetchServices();
    const watched = views.filter((v) => wanted.has(v.id) && v.update !== undefined);
    const lines = watched.map((v) => progressLine(v, width));
    if (tty) {
      // Move up over the last drawing and write the lines again, each cleared first.
      const up = drawn > 0 ? `\x1b[${drawn}A` : '';
      io.stdout.write(up + lines.map((l) => `\x1b[2K${l}\n`).join(''));
      drawn = lines.length;
    } else {
      for (const [i, view] of watched.entries()) {
        if (printed.get(view.id) === lines[i]) continue;
        printed.set(view.id, lines[i]!);
        io.stdout.write(`${lines[i]}\n`);
      }
    }
    if (watched.every(ended)) {
      const failed = watched.filter((v) => FAILURE.has(v.update!.state));
      for (const v of failed)
        io.stderr.write(
          `shoal: ${v.id}: rollout ${v.update!.state.replace(/_/g, ' ')}${v.update!.reason === '' ? '' : `: ${v.update!.reason}`}\n`,
        );
      return failed.length === 0 ? ExitCode.ok : ExitCode.failed;
    }
    await sleep(options.intervalMs ?? 1000);
  }
}
