import { describe, expect, it } from '@jest/globals';
import { parsePortShort } from '../../src/stack/index.js';
import { oneService, parseErrors, parseOk, service } from './helpers.js';

describe('parseStack() command and entrypoint', () => {
  it.each([
    ['command: httpd -f -p 8080', ['httpd', '-f', '-p', '8080']],
    ['command: ["httpd", "-f", "-p", 8080]', ['httpd', '-f', '-p', '8080']],
    [`command: sh -c 'sleep 1 && echo "done"'`, ['sh', '-c', 'sleep 1 && echo "done"']],
    ['command: []', []],
    ['command:\n  - sleep\n  - infinity', ['sleep', 'infinity']],
  ])('%s reads as %p', (body, expected) => {
    expect(service(body).command).toEqual(expected);
  });

  it('keeps the image defaults when command and entrypoint are absent', () => {
    const s = service('');
    expect([s.command, s.entrypoint]).toEqual([null, null]);
  });

  it('reads entrypoint like command', () => {
    expect(service('entrypoint: /bin/sh -c').entrypoint).toEqual(['/bin/sh', '-c']);
  });
});

describe('parseStack() environment, labels and env_file', () => {
  it.each([
    ['environment:\n  - A=1\n  - B=x=y\n  - C=', { A: '1', B: 'x=y', C: '' }],
    ['environment:\n  A: 1\n  B: true\n  C: ""', { A: '1', B: 'true', C: '' }],
    ['environment:\n  - HOST\n  - MISSING', { HOST: 'h1' }],
    ['environment:\n  HOST:\n  MISSING:', { HOST: 'h1' }],
  ])('%s reads as %p', (body, env) => {
    expect(service(body, { env: { HOST: 'h1' } }).env).toEqual(env);
  });

  it('sorts environment keys so equivalent files compare equal', () => {
    expect(Object.keys(service('environment:\n  Z: 1\n  A: 2\n  M: 3').env)).toEqual(['A', 'M', 'Z']);
  });

  it.each([
    ['labels:\n  - a=1\n  - b=two', { a: '1', b: 'two' }],
    ['labels:\n  b: two\n  a: 1', { a: '1', b: 'two' }],
  ])('%s reads as %p', (body, labels) => {
    expect(service(body).labels).toEqual(labels);
  });

  it('reads env_file through readFile, then lets environment override it', () => {
    const files: Record<string, string> = {
      '/srv/app/.env.common':
        '# shared\nexport A=from-file\nB="two words"\nC=\'${NOT_EXPANDED}\'\nD=${TAG:-v1} # comment\n',
      '/srv/app/extra.env': 'E=5\n',
    };
    const readFile = (p: string) => {
      if (!(p in files)) throw new Error(`ENOENT: ${p}`);
      return files[p]!;
    };
    const s = service(
      'env_file:\n  - .env.common\n  - path: extra.env\n  - path: missing.env\n    required: false\nenvironment:\n  A: override',
      {
        file: '/srv/app/compose.yml',
        readFile,
      },
    );
    expect(s.env).toEqual({ A: 'override', B: 'two words', C: '${NOT_EXPANDED}', D: 'v1', E: '5' });
  });

  it('reports a missing required env_file and a parser without readFile', () => {
    expect(
      parseErrors(oneService('env_file: nope.env'), {
        readFile: () => {
          throw new Error('ENOENT');
        },
      }),
    ).toEqual(['compose.yml:4 services.s.env_file: cannot read env_file "nope.env": ENOENT']);
    expect(parseErrors(oneService('env_file: nope.env'))[0]).toMatch(/no file access was given/);
  });
});

describe('parseStack() ports', () => {
  const p = (target: number, published: number | null, extra: object = {}) => ({
    target,
    published,
    protocol: 'tcp',
    mode: 'ingress',
    hostIp: null,
    ...extra,
  });
  it.each([
    ['- 80', [p(80, null)]],
    ['- "80"', [p(80, null)]],
    ['- "8080:80"', [p(80, 8080)]],
    ['- "127.0.0.1:8080:80"', [p(80, 8080, { hostIp: '127.0.0.1' })]],
    ['- "127.0.0.1::80"', [p(80, null, { hostIp: '127.0.0.1' })]],
    ['- "[::1]:8080:80"', [p(80, 8080, { hostIp: '::1' })]],
    ['- "53:53/udp"', [p(53, 53, { protocol: 'udp' })]],
    ['- "8080-8081:80-81"', [p(80, 8080), p(81, 8081)]],
    ['- "3000-3001"', [p(3000, null), p(3001, null)]],
    ['- target: 80\n  published: 8080', [p(80, 8080)]],
    [
      '- target: 80\n  published: "8080"\n  protocol: udp\n  mode: host',
      [p(80, 8080, { protocol: 'udp', mode: 'host' })],
    ],
    ['- target: 80\n  host_ip: 127.0.0.1\n  name: web\n  app_protocol: http', [p(80, null, { hostIp: '127.0.0.1' })]],
  ])('ports:\\n%s', (list, expected) => {
    expect(
      service(
        `ports:\n${list
          .split('\n')
          .map((l) => `  ${l}`)
          .join('\n')}`,
      ).ports,
    ).toEqual(expected);
  });

  it('sorts ports so that list order does not matter', () => {
    expect(service('ports: ["9090:90", "8080:80"]').ports.map((x) => x.target)).toEqual([80, 90]);
  });

  it.each(['80:80:80:80', '70000', '80/icmp', 'http', '8080-8082:80-81', 'abc:80'])(
    'parsePortShort(%p) throws a RangeError naming the form',
    (text) => {
      expect(() => parsePortShort(text)).toThrow(/expected \[host_ip:\]\[published:\]target/);
    },
  );

  it('reports a duplicate published port', () => {
    expect(parseErrors(oneService('ports: ["8080:80", "8080:81"]'))[0]).toMatch(
      /published port 8080\/tcp is listed twice/,
    );
  });
});

describe('parseStack() volumes', () => {
  const top = 'volumes:\n  data:\n';
  it.each([
    [
      '- ./site:/usr/share/nginx/html:ro',
      { type: 'bind', source: '/srv/app/site', target: '/usr/share/nginx/html', readOnly: true },
    ],
    ['- /etc/hosts:/etc/hosts', { type: 'bind', source: '/etc/hosts', target: '/etc/hosts', readOnly: false }],
    ['- ~/cfg:/cfg', { type: 'bind', source: '/home/me/cfg', target: '/cfg', readOnly: false }],
    ['- ../shared:/shared:rw,z', { type: 'bind', source: '/srv/shared', target: '/shared', readOnly: false }],
    [
      '- data:/var/lib/data',
      { type: 'volume', source: 'data', target: '/var/lib/data', readOnly: false, noCopy: false },
    ],
    [
      '- data:/var/lib/data:ro,nocopy',
      { type: 'volume', source: 'data', target: '/var/lib/data', readOnly: true, noCopy: true },
    ],
    ['- /scratch', { type: 'volume', source: null, target: '/scratch', readOnly: false, noCopy: false }],
    [
      '- type: bind\n  source: ./site\n  target: /html\n  read_only: true',
      { type: 'bind', source: '/srv/app/site', target: '/html', readOnly: true },
    ],
    [
      '- type: volume\n  source: data\n  target: /d\n  volume:\n    nocopy: true',
      { type: 'volume', source: 'data', target: '/d', readOnly: false, noCopy: true },
    ],
    [
      '- type: tmpfs\n  target: /tmp\n  tmpfs:\n    size: 64m',
      { type: 'tmpfs', source: null, target: '/tmp', readOnly: false, tmpfsSizeBytes: 64 * 1024 ** 2 },
    ],
  ])('volumes:\\n%s', (list, mount) => {
    const body = `volumes:\n${list
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n')}`;
    const s = parseOk(oneService(body, top), { file: '/srv/app/compose.yml', env: { HOME: '/home/me' } }).services.s!;
    expect(s.volumes).toEqual([mount]);
  });

  it('gives the same mounts for short and long syntax', () => {
    const short = service('volumes: ["./a:/a:ro"]', { file: '/x/compose.yml' });
    const long = service('volumes:\n  - {type: bind, source: ./a, target: /a, read_only: true}', {
      file: '/x/compose.yml',
    });
    expect(long.volumes).toEqual(short.volumes);
  });

  it('reads tmpfs: as tmpfs mounts', () => {
    expect(service('tmpfs:\n  - /run\n  - /tmp:size=1m').volumes).toEqual([
      { type: 'tmpfs', source: null, target: '/run', readOnly: false, tmpfsSizeBytes: null },
      { type: 'tmpfs', source: null, target: '/tmp', readOnly: false, tmpfsSizeBytes: 1024 ** 2 },
    ]);
  });

  it.each([
    ['volumes: ["undeclared:/d"]', /volume "undeclared" is not defined; declare it under the top-level volumes:/],
    ['volumes: ["./a:relative"]', /volume target must be an absolute path/],
    ['volumes: ["./a:/a:bogus"]', /unknown volume mode "bogus"/],
    ['volumes: ["/a:/b", "/c:/b"]', /two mounts on the same target \/b/],
    ['volumes:\n  - {type: npipe, source: x, target: /x}', /expected one of bind, volume, tmpfs, got "npipe"/],
    ['volumes:\n  - {type: bind, target: /x}', /source is required for a bind mount/],
  ])('%s is reported', (body, message) => {
    expect(parseErrors(oneService(body)).join('\n')).toMatch(message);
  });
});

describe('parseStack() healthcheck', () => {
  const timings = { intervalMs: 30_000, timeoutMs: 30_000, retries: 3, startPeriodMs: 0, startIntervalMs: 5000 };
  it.each([
    [
      'test: curl -f http://localhost/',
      { disabled: false, test: ['CMD-SHELL', 'curl -f http://localhost/'], ...timings },
    ],
    [
      'test: ["CMD", "curl", "-f", "http://localhost/"]',
      { disabled: false, test: ['CMD', 'curl', '-f', 'http://localhost/'], ...timings },
    ],
    [
      'test: ["CMD-SHELL", "curl -f http://localhost/ || exit 1"]',
      { disabled: false, test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'], ...timings },
    ],
    ['test: ["NONE"]', { disabled: true, test: null, ...timings }],
    ['disable: true', { disabled: true, test: null, ...timings }],
    [
      'interval: 1m30s\ntimeout: 10s\nretries: 5\nstart_period: 40s\nstart_interval: 1s',
      {
        disabled: false,
        test: null,
        intervalMs: 90_000,
        timeoutMs: 10_000,
        retries: 5,
        startPeriodMs: 40_000,
        startIntervalMs: 1000,
      },
    ],
  ])('healthcheck: %s', (body, expected) => {
    expect(
      service(
        `healthcheck:\n${body
          .split('\n')
          .map((l) => `  ${l}`)
          .join('\n')}`,
      ).healthcheck,
    ).toEqual(expected);
  });
});

describe('parseStack() depends_on, networks and restart', () => {
  const two = (body: string, extra = '') =>
    `services:\n  db:\n    image: pg\n  s:\n    image: img\n${body
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n')}\n${extra}`;
  it.each([
    ['depends_on: [db]', [{ service: 'db', condition: 'service_started', required: true }]],
    [
      'depends_on:\n  db:\n    condition: service_healthy\n    restart: true',
      [{ service: 'db', condition: 'service_healthy', required: true }],
    ],
    [
      'depends_on:\n  db:\n    condition: service_completed_successfully\n    required: false',
      [{ service: 'db', condition: 'service_completed_successfully', required: false }],
    ],
  ])('%s', (body, expected) => {
    expect(parseOk(two(body)).services.s!.dependsOn).toEqual(expected);
  });

  it.each([
    ['', [{ name: 'default', aliases: [] }]],
    [
      'networks: [front, back]',
      [
        { name: 'back', aliases: [] },
        { name: 'front', aliases: [] },
      ],
    ],
    [
      'networks:\n  front:\n    aliases: [www, api]\n  back:',
      [
        { name: 'back', aliases: [] },
        { name: 'front', aliases: ['api', 'www'] },
      ],
    ],
  ])('networks %s', (body, expected) => {
    expect(parseOk(two(body, 'networks:\n  front:\n  back:\n    driver: overlay\n')).services.s!.networks).toEqual(
      expected,
    );
  });

  it.each([
    ['restart: "no"', 'none', 0],
    ['restart: always', 'any', 0],
    ['restart: unless-stopped', 'any', 0],
    ['restart: on-failure', 'on-failure', 0],
    ['restart: on-failure:5', 'on-failure', 5],
  ])('%s maps to the restart policy', (body, condition, maxAttempts) => {
    const r = service(body).deploy.restartPolicy;
    expect([r.condition, r.maxAttempts]).toEqual([condition, maxAttempts]);
  });
});

describe('parseStack() deploy', () => {
  it('defaults like Docker Swarm', () => {
    const d = service('').deploy;
    expect(d.replicas).toBe(1);
    expect(d.restartPolicy).toEqual({ condition: 'any', delayMs: 5000, maxAttempts: 0, windowMs: 0 });
    expect(d.updateConfig).toEqual({
      parallelism: 1,
      delayMs: 0,
      failureAction: 'pause',
      monitorMs: 5000,
      maxFailureRatio: 0,
      order: 'stop-first',
    });
    expect(d.rollbackConfig).toEqual(d.updateConfig);
  });

  it('reads every deploy key', () => {
    const s = service(`deploy:
  mode: replicated
  replicas: 4
  endpoint_mode: dnsrr
  labels: [team=core]
  placement:
    constraints:
      - node.role == worker
      - "node.labels.zone!=east"
    preferences:
      - spread: node.labels.zone
    max_replicas_per_node: 2
  resources:
    limits: {cpus: '1.5', memory: 1g, pids: 100}
    reservations:
      cpus: 0.25
      memory: 256M
      generic_resources:
        - discrete_resource_spec: {kind: gpu, value: 2}
      devices:
        - capabilities: [gpu]
          driver: nvidia
          count: 1
  restart_policy: {condition: on-failure, delay: 10s, max_attempts: 3, window: 2m}
  update_config: {parallelism: 2, delay: 10s, failure_action: rollback, monitor: 30s, max_failure_ratio: 0.2, order: start-first}
  rollback_config: {parallelism: 0, failure_action: continue}`);
    expect(s.kind).toBe('replicated');
    expect(s.deploy).toEqual({
      replicas: 4,
      endpointMode: 'dnsrr',
      labels: { team: 'core' },
      placement: {
        constraints: [
          { attribute: 'node.labels.zone', op: '!=', value: 'east' },
          { attribute: 'node.role', op: '==', value: 'worker' },
        ],
        preferences: [{ spread: 'node.labels.zone' }],
        maxReplicasPerNode: 2,
      },
      resources: {
        limits: { cpuMillis: 1500, memoryBytes: 1024 ** 3, pids: 100, generic: {}, devices: [] },
        reservations: {
          cpuMillis: 250,
          memoryBytes: 256 * 1024 ** 2,
          pids: 0,
          generic: { gpu: 2 },
          devices: [{ capabilities: ['gpu'], driver: 'nvidia', count: 1, deviceIds: [], options: {} }],
        },
      },
      restartPolicy: { condition: 'on-failure', delayMs: 10_000, maxAttempts: 3, windowMs: 120_000 },
      updateConfig: {
        parallelism: 2,
        delayMs: 10_000,
        failureAction: 'rollback',
        monitorMs: 30_000,
        maxFailureRatio: 0.2,
        order: 'start-first',
      },
      rollbackConfig: {
        parallelism: 0,
        delayMs: 0,
        failureAction: 'continue',
        monitorMs: 5000,
        maxFailureRatio: 0,
        order: 'stop-first',
      },
    });
  });

  it('reads mode: global as kind global with no replica count', () => {
    const s = service('deploy:\n  mode: global');
    expect([s.kind, s.deploy.replicas]).toEqual(['global', 0]);
  });

  it.each([
    ['deploy:\n  mode: global\n  replicas: 2', /replicas cannot be set with mode: global/],
    [
      'deploy:\n  placement:\n    constraints: ["node.labels.zone = east"]',
      /invalid constraint "node.labels.zone = east"/,
    ],
    ['deploy:\n  placement:\n    constraints: ["node.colour == red"]', /unknown constraint attribute "node.colour"/],
    [
      'deploy:\n  resources:\n    limits: {memory: 1g}\n    reservations: {memory: 2g}',
      /reservation .* exceeds the limit/,
    ],
    ['deploy:\n  rollback_config: {failure_action: rollback}', /expected one of pause, continue, got "rollback"/],
    ['deploy:\n  update_config: {max_failure_ratio: 2}', /expected a number between 0 and 1, got 2/],
  ])('%s is reported', (body, message) => {
    expect(parseErrors(oneService(body)).join('\n')).toMatch(message);
  });
});
