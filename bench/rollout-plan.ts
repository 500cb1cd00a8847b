/**
 * What both sides of bench:rollout run: the service (10 replicas of a small HTTP server built
 * locally in two tags that answer their version, with a health check) and its update settings,
 * as a Compose file for shoal and as flags for `docker service create`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RolloutPlan {
  readonly replicas: number;
  readonly imageV1: string;
  readonly imageV2: string;
  readonly targetPort: number;
  readonly stopGraceS: number;
  readonly healthcheck: {
    readonly cmd: string;
    readonly intervalS: number;
    readonly timeoutS: number;
    readonly retries: number;
  };
  readonly update: {
    readonly parallelism: number;
    readonly delayS: number;
    readonly monitorS: number;
    readonly order: 'start-first';
    readonly failureAction: 'pause';
  };
}

/** Count of replicas on the new version (healthy) → seconds after the update command it was first seen. */
export type Timeline = Readonly<Record<number, number>>;

export const PLAN: RolloutPlan = {
  replicas: 10,
  imageV1: 'shoal-bench/rollout-web:v1',
  imageV2: 'shoal-bench/rollout-web:v2',
  targetPort: 8080,
  stopGraceS: 2,
  healthcheck: { cmd: 'wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1', intervalS: 1, timeoutS: 1, retries: 3 },
  update: { parallelism: 2, delayS: 0, monitorS: 5, order: 'start-first', failureAction: 'pause' },
};

/**
 * Builds both tags FROM the local busybox test image (scripts/build-test-image.sh; no registry):
 * busybox httpd serving the version, stopped at once on SIGTERM (a shell as PID 1 would ignore it).
 */
export function buildImages(plan: RolloutPlan): void {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-bench-rollout-'));
  try {
    writeFileSync(
      join(dir, 'Dockerfile'),
      [
        'FROM shoal-test/busybox:latest',
        'ARG VERSION',
        'RUN mkdir -p /srv && echo "$VERSION" > /srv/index.html',
        `CMD ["sh", "-c", "trap 'kill $p; exit 0' TERM; httpd -f -p ${plan.targetPort} -h /srv & p=$!; wait"]`,
        '',
      ].join('\n'),
    );
    for (const [version, tag] of [
      ['v1', plan.imageV1],
      ['v2', plan.imageV2],
    ] as const)
      execFileSync('docker', ['build', '-q', '--build-arg', `VERSION=${version}`, '-t', tag, dir], { stdio: 'ignore' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The Compose file shoal deploys: the same service, published in ingress mode on `port` (null: not
 * published); `image` instead of v1, and `x-shoal.image_update` every `watchS` seconds when given.
 */
export function composeFor(
  plan: RolloutPlan,
  port: number | null,
  options: { readonly image?: string; readonly watchS?: number } = {},
): string {
  const { healthcheck: h, update: u } = plan;
  return [
    'services:',
    '  web:',
    `    image: ${options.image ?? plan.imageV1}`,
    `    stop_grace_period: ${plan.stopGraceS}s`,
    '    healthcheck:',
    `      test: ["CMD-SHELL", ${JSON.stringify(h.cmd)}]`,
    `      interval: ${h.intervalS}s`,
    `      timeout: ${h.timeoutS}s`,
    `      retries: ${h.retries}`,
    ...(port === null ? [] : ['    ports:', `      - { target: ${plan.targetPort}, published: ${port} }`]),
    ...(options.watchS === undefined ? [] : ['    x-shoal:', `      image_update: {interval: ${options.watchS}s}`]),
    '    deploy:',
    `      replicas: ${plan.replicas}`,
    '      update_config:',
    `        parallelism: ${u.parallelism}`,
    `        delay: ${u.delayS}s`,
    `        monitor: ${u.monitorS}s`,
    `        order: ${u.order}`,
    `        failure_action: ${u.failureAction}`,
    '',
  ].join('\n');
}
