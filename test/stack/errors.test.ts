import { describe, expect, it } from '@jest/globals';
import { formatStackError, parseStack, parseStackOrThrow, StackValidationError } from '../../src/stack/index.js';
import { oneService, parseErrors } from './helpers.js';

// Line numbers in the expectations below are counted in this text (line 1 is "version").
const BAD = `version: "3.9"
services:
  api:
    image: myorg/api:1.0
    ports:
      - "8080:80"
      - "99999:80"
    deploy:
      replicas: three
      resources:
        limits:
          memory: lots
      restart_policy:
        condition: sometimes
    privileged: yes-please
    build_args: x
  worker:
    command: run
    depends_on: [cache]
    deploy:
      update_config:
        paralelism: 2
configs:
  app_config:
    file: ./app.conf
`;

describe('parseStack() on a file with several mistakes', () => {
  it('returns every error at once, in line order, with the line of each', () => {
    expect(parseErrors(BAD)).toEqual([
      'compose.yml:7 services.api.ports[1]: invalid port "99999:80": ports must be between 1 and 65535 and ranges ascending (expected [host_ip:][published:]target[/protocol], e.g. "8080:80")',
      'compose.yml:9 services.api.deploy.replicas: expected an integer >= 0, got "three"',
      'compose.yml:12 services.api.deploy.resources.limits.memory: expected a size such as 512M, 1g or 2GiB, got "lots"',
      'compose.yml:14 services.api.deploy.restart_policy.condition: expected one of none, on-failure, any, got "sometimes"',
      'compose.yml:15 services.api.privileged: expected true or false, got "yes-please"',
      'compose.yml:16 services.api.build_args: unsupported key "build_args"',
      'compose.yml:17 services.worker: image is required (or x-shoal.runtime: process to run a command on the host)',
      'compose.yml:19 services.worker.depends_on[0]: service "cache" is not defined; services are: api, worker',
      'compose.yml:22 services.worker.deploy.update_config.paralelism: unsupported key "paralelism"; did you mean "parallelism"?',
      'compose.yml:25 configs.app_config.file: cannot read "./app.conf": no file access was given to the parser (pass readFile)',
    ]);
  });

  it('gives each error its file, 1-based line and column and path as fields', () => {
    const r = parseStack(BAD, { file: 'compose.yml', name: 'bad' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.find((e) => e.path === 'services.api.deploy.replicas')).toEqual({
      file: 'compose.yml',
      line: 9,
      column: 17,
      path: 'services.api.deploy.replicas',
      message: 'expected an integer >= 0, got "three"',
    });
    expect(r.warnings.map(formatStackError)).toEqual([
      'compose.yml:1 version: version is obsolete in the Compose format and ignored',
    ]);
  });

  it('parseStackOrThrow() throws a StackValidationError listing every error', () => {
    let caught: unknown;
    try {
      parseStackOrThrow(BAD, { file: 'compose.yml', name: 'bad' });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(StackValidationError);
    const err = caught as StackValidationError;
    expect(err.errors).toHaveLength(10);
    expect(err.message).toMatch(/^Cannot parse stack: 10 errors\n/);
    expect(err.message).toContain('compose.yml:9 services.api.deploy.replicas: expected an integer >= 0, got "three"');
  });
});

describe('parseStack() unsupported keys', () => {
  it.each([
    [
      'top level, a secret with no value',
      'services:\n  s:\n    image: i\nsecrets:\n  pw: {}',
      'compose.yml:5 secrets.pw: give one of file, environment or external: true (`shoal secret create` makes an external one)',
    ],
    [
      'top level, unknown',
      'services:\n  s:\n    image: i\nincludes: [a.yml]',
      'compose.yml:4 includes: unsupported key "includes"; supported here: version, name, services, networks, volumes, configs, secrets, x-shoal',
    ],
    ['service', oneService('pid: host'), 'compose.yml:4 services.s.pid: unsupported key "pid"'],
    [
      'deploy',
      oneService('deploy:\n  rollback: {}'),
      'compose.yml:5 services.s.deploy.rollback: unsupported key "rollback"; supported here: mode, replicas, endpoint_mode, labels, placement, resources, restart_policy, update_config, rollback_config',
    ],
    [
      'placement',
      oneService('deploy:\n  placement:\n    constraint: [node.role==worker]'),
      'compose.yml:6 services.s.deploy.placement.constraint: unsupported key "constraint"; did you mean "constraints"?',
    ],
    [
      'healthcheck',
      oneService('healthcheck:\n  intervals: 5s'),
      'compose.yml:5 services.s.healthcheck.intervals: unsupported key "intervals"; did you mean "interval"?',
    ],
    [
      'x-shoal',
      oneService('x-shoal:\n  priorty: 5'),
      'compose.yml:5 services.s.x-shoal.priorty: unsupported key "priorty"; did you mean "priority"?',
    ],
    [
      'network',
      'services:\n  s:\n    image: i\nnetworks:\n  n:\n    ipam: {}',
      'compose.yml:6 networks.n.ipam: unsupported key "ipam"; supported here: driver, driver_opts, external, name, labels, attachable, internal',
    ],
    [
      'service resources',
      oneService('deploy:\n  resources:\n    limits:\n      gpus: 1'),
      'compose.yml:7 services.s.deploy.resources.limits.gpus: unsupported key "gpus"; did you mean "cpus"?',
    ],
  ])('are reported in %s', (_where, text, message) => {
    expect(parseErrors(text)).toContain(message);
  });

  it('allows x-* extension fields at top level and in services', () => {
    const r = parseStack('x-anything: {a: 1}\nservices:\n  s:\n    image: i\n    x-notes: hello\n', {
      file: 'compose.yml',
      name: 't',
    });
    expect(r.ok).toBe(true);
  });

  it('warns (not errors) for keys that mean nothing on a cluster', () => {
    const r = parseStack(oneService('container_name: fixed\nbuild: .\nlinks: [db]'), {
      file: 'compose.yml',
      name: 't',
    });
    expect(r.ok).toBe(true);
    expect(r.warnings.map((w) => w.path)).toEqual([
      'services.s.container_name',
      'services.s.build',
      'services.s.links',
    ]);
  });

  it('reports build without image as an error', () => {
    expect(parseErrors('services:\n  s:\n    build: .\n')).toEqual([
      'compose.yml:3 services.s.build: shoal does not build images: build and push one, then set image',
    ]);
  });
});

describe('parseStack() bad YAML and bad shapes', () => {
  it.each([
    ['a YAML syntax error', 'services:\n  s:\n    image: [unclosed\n', /^compose.yml:\d+: invalid YAML/],
    [
      'a duplicate key',
      'services:\n  s:\n    image: a\n    image: b\n',
      /^compose.yml:4: invalid YAML: Map keys must be unique/,
    ],
    ['an empty file', '', /^compose.yml:1: the file is empty/],
    ['a list at top level', '- a\n- b\n', /^compose.yml:1: expected a mapping, got a list/],
    ['services as a list', 'services: [a, b]\n', /^compose.yml:1 services: expected a mapping, got a list/],
    ['no services', 'name: x\n', /services is required/],
    ['an unknown alias', 'services:\n  s: *nope\n', /invalid YAML|unknown alias/],
    ['a merge of a scalar', 'services:\n  s:\n    <<: 5\n    image: i\n', /merge key << expects a mapping/],
    [
      'a self-including anchor',
      'x-a: &a\n  b: *a\nservices:\n  s:\n    image: i\n',
      /^compose.yml:2: alias \*a refers to a node that contains it/,
    ],
    [
      'several documents',
      'services:\n  s:\n    image: i\n---\nservices: {}\n',
      /^compose.yml:4: a stack file holds one YAML document/,
    ],
    ['a bad service name', 'services:\n  "my service":\n    image: i\n', /a service name uses letters/],
    ['a bad stack name', 'name: My_Stack!\nservices:\n  s:\n    image: i\n', /invalid stack name "My_Stack!"/],
  ])('reports %s', (_what, text, message) => {
    const r = parseStack(text, { file: 'compose.yml', baseDir: '/srv/app' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map(formatStackError).join('\n')).toMatch(message);
  });

  it('stops a billion-laughs alias bomb instead of expanding it', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const r = parseStack(`x-bomb:\n${lines.map((l) => '  ' + l).join('\n')}\nservices:\n  s:\n    image: i\n`, {
      file: 'compose.yml',
      name: 't',
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]!.message).toMatch(/too large/);
  });
});

describe('parseStack() stack name', () => {
  it.each([
    [{ name: 'cli' }, 'name: file\n', 'cli'],
    [{}, 'name: file\n', 'file'],
    [{ file: '/home/me/My-App/compose.yml' }, '', 'my-app'],
  ])('with options %p and %p is %p', (opts, top, expected) => {
    const r = parseStack(`${top}services:\n  s:\n    image: i\n`, { file: 'compose.yml', ...opts });
    expect(r.ok && r.spec.name).toBe(expected);
  });
});
