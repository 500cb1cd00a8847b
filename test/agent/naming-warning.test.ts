/** crossNodeNamingWarning(): deploy and scale say when services reach each other by name across nodes. */
import { crossNodeNamingWarning, namedReaches } from '../../src/agent/naming-warning.js';

type Svc = Parameters<typeof namedReaches>[0][number];
const svc = (
  name: string,
  o: {
    env?: Readonly<Record<string, string>>;
    command?: readonly string[];
    dependsOn?: readonly string[];
    networks?: readonly string[];
    runtime?: 'docker' | 'process';
  } = {},
): Svc => ({
  name,
  runtime: o.runtime ?? 'docker',
  networks: (o.networks ?? ['default']).map((n) => ({ name: n, aliases: [] })),
  env: o.env ?? {},
  command: o.command ?? null,
  dependsOn: (o.dependsOn ?? []).map((service) => ({ service, condition: 'service_started', required: true })),
});

describe('crossNodeNamingWarning()', () => {
  it('warns when a service names another as a host and the cluster has several nodes', () => {
    const warning = crossNodeNamingWarning('web', [svc('web'), svc('client', { command: ['wget', 'http://web/'] })], 3);
    expect(warning).toMatch(/^stack web: client → web reach by service name, which resolves only where/);
    expect(warning).toContain('3 nodes');
  });

  it.each([
    ['depends_on', { dependsOn: ['db'] }, true],
    ['DB_HOST=db', { env: { DB_HOST: 'db' } }, true],
    ['a URL', { env: { URL: 'postgres://u:p@db:5432/x' } }, true],
    ['host:port', { command: ['redis-cli', '-h', 'x', 'db:6379'] }, true],
    ['a word that merely contains the name', { env: { MODE: 'dbless' } }, false],
    ['nothing', {}, false],
  ] as const)('namedReaches() sees %s: %s', (_name, o, reaches) => {
    expect(namedReaches([svc('db'), svc('app', o)]).length > 0).toBe(reaches);
  });

  it.each([
    ['one node', [svc('web'), svc('client', { dependsOn: ['web'] })], 1],
    [
      'services on separate networks',
      [svc('web', { networks: ['a'] }), svc('client', { networks: ['b'], dependsOn: ['web'] })],
      3,
    ],
    [
      'process services (host network)',
      [svc('web', { runtime: 'process' }), svc('client', { runtime: 'process', dependsOn: ['web'] })],
      3,
    ],
    ['services that do not name each other', [svc('web'), svc('agent')], 3],
  ] as const)('says nothing for %s', (_name, services, nodes) => {
    expect(crossNodeNamingWarning('web', services, nodes)).toBeNull();
  });
});
