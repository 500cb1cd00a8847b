/**
 * Until shoal has service addresses across nodes (issue 14), a task reaches another service of
 * its stack by name only when a task of that service runs on the same node: each node makes its
 * own bridge per stack network. Deploy and scale say so when it matters, instead of letting
 * clients on other nodes fail silently (issue 18, item 11). Pure.
 *
 * "When it matters": a service evidently reaches another by name: it `depends_on` it, or names
 * it as a host in its environment or command (`http://db:5432`, `DB_HOST=db`, `db:6379`).
 */
import type { ServiceSpec } from '../stack/index.js';

type Service = Pick<ServiceSpec, 'name' | 'runtime' | 'networks' | 'dependsOn' | 'env' | 'command'>;

/** `text` names `host` as a host: alone, after `//` or `@`, or before `:port`. */
function namesHost(text: string, host: string): boolean {
  if (text === host) return true;
  const escaped = host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(//|@)${escaped}([:/]|$)|(^|[\\s,=])${escaped}:\\d+`).test(text);
}

/** Pairs `client → server` of Docker services that share a network and where the client names the server. */
export function namedReaches(services: readonly Service[]): [string, string][] {
  const docker = services.filter((s) => s.runtime === 'docker');
  const pairs: [string, string][] = [];
  for (const client of docker) {
    const texts = [...Object.values(client.env), ...(client.command ?? [])];
    for (const server of docker) {
      if (server === client) continue;
      const shared = client.networks.some((n) => server.networks.some((m) => m.name === n.name));
      if (!shared) continue;
      const depends = client.dependsOn.some((d) => d.service === server.name);
      if (depends || texts.some((t) => namesHost(t, server.name))) pairs.push([client.name, server.name]);
    }
  }
  return pairs;
}

/** The warning for stack `stack` on a cluster of `nodes` nodes, or null when nothing reaches by name or one node runs all. */
export function crossNodeNamingWarning(stack: string, services: readonly Service[], nodes: number): string | null {
  if (nodes < 2) return null;
  const pairs = namedReaches(services);
  if (pairs.length === 0) return null;
  const shown = pairs.slice(0, 3).map(([c, s]) => `${c} → ${s}`);
  return (
    `stack ${stack}: ${shown.join(', ')}${pairs.length > 3 ? ', …' : ''} reach by service name, which resolves only where ` +
    `a task of the named service runs on the same node: shoal has no network across nodes yet, and this cluster has ${nodes} nodes. ` +
    'Keep such services together with placement constraints (node.hostname==…), or use published ports'
  );
}
