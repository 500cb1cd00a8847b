import { describe, expect, it } from '@jest/globals';
import { parseStack } from '../../src/stack/index.js';

// A docker-compose.yml of the kind found in the wild: obsolete version key,
// anchors and merge keys, short and long syntax side by side, env files,
// healthchecks, named volumes, two networks, a Swarm deploy section.
const COMPOSE = `version: "3.8"

x-logging: &default-logging
  driver: json-file
  options:
    max-size: "10m"
    max-file: "3"

x-app: &app
  image: ghcr.io/acme/shop:\${TAG:-2.4.1}
  restart: unless-stopped
  logging: *default-logging
  env_file: .env
  environment: &app-env
    NODE_ENV: production
    DATABASE_URL: postgres://shop:\${POSTGRES_PASSWORD}@db:5432/shop
    REDIS_URL: redis://cache:6379/0
  networks:
    - backend

services:
  proxy:
    image: nginx:1.27-alpine
    ports:
      - "80:80"
      - target: 443
        published: 443
        protocol: tcp
        mode: host
    volumes:
      - ./nginx/conf.d:/etc/nginx/conf.d:ro
      - type: volume
        source: certs
        target: /etc/letsencrypt
        read_only: true
    depends_on:
      - web
    networks: [frontend, backend]
    logging: *default-logging
    deploy:
      mode: global
      placement:
        constraints: [node.labels.edge == true]

  web:
    <<: *app
    command: ["node", "dist/server.js"]
    expose: ["3000"]
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://localhost:3000/health"]
      interval: 30s
      timeout: 5s
      retries: 3
      start_period: 20s
    depends_on:
      db:
        condition: service_healthy
      cache:
        condition: service_started
    deploy:
      replicas: 3
      update_config:
        parallelism: 1
        delay: 10s
        order: start-first
        failure_action: rollback
      rollback_config:
        parallelism: 2
      resources:
        limits:
          cpus: "1.0"
          memory: 512M
        reservations:
          cpus: "0.25"
          memory: 128M
      restart_policy:
        condition: on-failure
        delay: 5s
        max_attempts: 3
        window: 120s

  worker:
    <<: *app
    command: node dist/worker.js --queue default --concurrency 4
    environment:
      <<: *app-env
      WORKER: "1"
    deploy:
      replicas: 2

  db:
    image: postgres:16-alpine
    environment:
      POSTGRES_DB: shop
      POSTGRES_USER: shop
      POSTGRES_PASSWORD: \${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}
    volumes:
      - db-data:/var/lib/postgresql/data
    healthcheck:
      test: pg_isready -U shop -d shop
      interval: 10s
      timeout: 5s
      retries: 5
    networks:
      backend:
        aliases: [postgres]
    shm_size: 256m
    stop_grace_period: 1m
    deploy:
      placement:
        constraints:
          - node.labels.storage == ssd

  cache:
    image: redis:7-alpine
    command: redis-server --appendonly yes --maxmemory 256mb
    volumes:
      - cache-data:/data
    networks: [backend]
    sysctls:
      net.core.somaxconn: 1024
    ulimits_comment_free: {}

volumes:
  db-data:
  cache-data:
    driver: local
  certs:
    external: true

networks:
  frontend:
  backend:
    driver: overlay
    attachable: true
`;

const FILES: Record<string, string> = { '/srv/shop/.env': 'SENTRY_DSN=https://key@sentry.example/1\nLOG_LEVEL=info\n' };
const options = {
  file: 'docker-compose.yml',
  baseDir: '/srv/shop',
  env: { POSTGRES_PASSWORD: 's3cret' },
  readFile: (p: string) => {
    const t = FILES[p];
    if (t === undefined) throw new Error(`ENOENT: no such file ${p}`);
    return t;
  },
};

describe('parseStack() on a real-world docker-compose.yml', () => {
  it('reports the one unsupported key and nothing else', () => {
    const r = parseStack(COMPOSE, options);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => `${e.line} ${e.path}`)).toEqual(['122 services.cache.ulimits_comment_free']);
  });

  const fixed = COMPOSE.replace('    ulimits_comment_free: {}\n', '');
  const r = parseStack(fixed, options);
  if (!r.ok) throw new Error(JSON.stringify(r.errors, null, 2));
  const spec = r.spec;

  it('parses as is, warning only about what it ignores', () => {
    expect(spec.name).toBe('shop');
    expect(Object.keys(spec.services)).toEqual(['cache', 'db', 'proxy', 'web', 'worker']);
    expect(r.warnings.map((w) => `${w.path}: ${w.message}`)).toEqual([
      'version: version is obsolete in the Compose format and ignored',
      'services.web.restart: restart is ignored because deploy.restart_policy is set',
    ]);
  });

  it('applies anchors and merge keys, with local keys winning', () => {
    const web = spec.services.web!;
    expect(web.image).toBe('ghcr.io/acme/shop:2.4.1');
    expect(web.logging).toEqual({ driver: 'json-file', options: { 'max-file': '3', 'max-size': '10m' } });
    expect(web.networks).toEqual([{ name: 'backend', aliases: [] }]);
    // deploy.restart_policy wins over the merged `restart: unless-stopped`
    expect(web.deploy.restartPolicy).toEqual({
      condition: 'on-failure',
      delayMs: 5000,
      maxAttempts: 3,
      windowMs: 120_000,
    });
    expect(spec.services.worker!.deploy.restartPolicy.condition).toBe('any');
  });

  it('merges env_file under environment, interpolated', () => {
    expect(spec.services.worker!.env).toEqual({
      DATABASE_URL: 'postgres://shop:s3cret@db:5432/shop',
      LOG_LEVEL: 'info',
      NODE_ENV: 'production',
      REDIS_URL: 'redis://cache:6379/0',
      SENTRY_DSN: 'https://key@sentry.example/1',
      WORKER: '1',
    });
    expect(spec.services.db!.env.POSTGRES_PASSWORD).toBe('s3cret');
  });

  it('reads both port and volume syntaxes', () => {
    const proxy = spec.services.proxy!;
    expect(proxy.kind).toBe('global');
    expect(proxy.ports).toEqual([
      { target: 80, published: 80, protocol: 'tcp', mode: 'ingress', hostIp: null },
      { target: 443, published: 443, protocol: 'tcp', mode: 'host', hostIp: null },
    ]);
    expect(proxy.volumes).toEqual([
      { type: 'volume', source: 'certs', target: '/etc/letsencrypt', readOnly: true, noCopy: false },
      { type: 'bind', source: '/srv/shop/nginx/conf.d', target: '/etc/nginx/conf.d', readOnly: true },
    ]);
    expect(proxy.deploy.placement.constraints).toEqual([{ attribute: 'node.labels.edge', op: '==', value: 'true' }]);
  });

  it('reads commands, healthchecks, resources and top-level definitions', () => {
    expect(spec.services.worker!.command).toEqual([
      'node',
      'dist/worker.js',
      '--queue',
      'default',
      '--concurrency',
      '4',
    ]);
    expect(spec.services.db!.healthcheck?.test).toEqual(['CMD-SHELL', 'pg_isready -U shop -d shop']);
    expect(spec.services.db!.stopGracePeriodMs).toBe(60_000);
    expect(spec.services.db!.shmSizeBytes).toBe(256 * 1024 ** 2);
    expect(spec.services.web!.deploy.resources.limits).toMatchObject({ cpuMillis: 1000, memoryBytes: 512 * 1024 ** 2 });
    expect(spec.services.web!.dependsOn.map((d) => `${d.service}:${d.condition}`)).toEqual([
      'cache:service_started',
      'db:service_healthy',
    ]);
    expect(spec.volumes.certs).toMatchObject({ external: true });
    expect(Object.keys(spec.networks)).toEqual(['backend', 'default', 'frontend']);
    expect(spec.networks.backend).toMatchObject({ driver: 'overlay', attachable: true });
  });

  it('fails clearly when a required variable is missing', () => {
    const bad = parseStack(fixed, { ...options, env: {} });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.errors.map((e) => `${e.line} ${e.path}: ${e.message}`)).toEqual([
        '96 services.db.environment.POSTGRES_PASSWORD: required variable POSTGRES_PASSWORD is not set: set POSTGRES_PASSWORD',
      ]);
    }
  });
});
