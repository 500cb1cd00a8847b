/**
 * Checks that span services: references to services, networks, volumes and
 * jobs exist, and `depends_on` / job dependencies have no cycles.
 *
 * @module
 */
import { nearest, type Reader } from './reader.js';
import type { ServiceRefs } from './service.js';
import type { ServiceSpec } from './spec.js';

/** Reports every dangling reference and dependency cycle of a stack. */
export function readStackGraph(
  r: Reader,
  services: Readonly<Record<string, ServiceSpec>>,
  refs: ReadonlyMap<string, ServiceRefs>,
  networks: readonly string[],
  volumes: readonly string[],
): void {
  const names = Object.keys(services);
  const missing = (what: string, name: string, known: readonly string[], hint: string) => {
    const near = nearest(name, known);
    return `${what} "${name}" is not defined${near ? `; did you mean "${near}"?` : `; ${hint}`}`;
  };
  for (const [service, ref] of refs) {
    for (const d of ref.dependsOn) {
      if (d.name === service) r.error(d.node, d.path, 'a service cannot depend on itself');
      else if (!services[d.name])
        r.error(d.node, d.path, missing('service', d.name, names, `services are: ${names.join(', ')}`));
    }
    for (const n of ref.networks) {
      if (!networks.includes(n.name))
        r.error(n.node, n.path, missing('network', n.name, networks, 'declare it under the top-level networks:'));
    }
    for (const v of ref.volumes) {
      if (!volumes.includes(v.name))
        r.error(
          v.node,
          v.path,
          missing(
            'volume',
            v.name,
            volumes,
            'declare it under the top-level volumes:, or use a path such as ./data for a bind mount',
          ),
        );
    }
    for (const a of ref.affinity) {
      if (a.service.includes('/')) continue; // another stack's service: checked at deploy time
      if (a.service === service)
        r.error(
          a.node,
          a.path,
          'a service cannot have affinity to itself (use placement.max_replicas_per_node or strategy)',
        );
      else if (!services[a.service])
        r.error(a.node, a.path, missing('service', a.service, names, `services are: ${names.join(', ')}`));
    }
    for (const j of ref.jobDeps) {
      if (j.job.includes('/')) continue;
      const target = services[j.job];
      if (j.job === service) r.error(j.node, j.path, 'a job cannot depend on itself');
      else if (!target) r.error(j.node, j.path, missing('job', j.job, names, `services are: ${names.join(', ')}`));
      else if (target.kind !== 'job')
        r.error(
          j.node,
          j.path,
          `"${j.job}" is a ${target.kind} service; job dependencies name jobs (x-shoal.kind: job)`,
        );
    }
  }
  reportCycle(r, refs, 'depends_on', (ref) => ref.dependsOn.map((d) => ({ to: d.name, node: d.node, path: d.path })));
  reportCycle(r, refs, 'job dependencies', (ref) =>
    ref.jobDeps.map((d) => ({ to: d.job, node: d.node, path: d.path })),
  );
}

type Edge = { to: string; node: import('./tree.js').PNode; path: string };

// Depth-first search with colours; reports each cycle once, at the edge that closes it.
function reportCycle(
  r: Reader,
  refs: ReadonlyMap<string, ServiceRefs>,
  what: string,
  edges: (ref: ServiceRefs) => Edge[],
): void {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (s: string): void => {
    state.set(s, 1);
    stack.push(s);
    const ref = refs.get(s);
    for (const e of ref ? edges(ref) : []) {
      if (e.to === s || !refs.has(e.to)) continue;
      const st = state.get(e.to);
      if (st === 1) {
        const cycle = [...stack.slice(stack.indexOf(e.to)), e.to];
        r.error(e.node, e.path, `${what} form a cycle: ${cycle.join(' -> ')}`);
      } else if (st === undefined) visit(e.to);
    }
    stack.pop();
    state.set(s, 2);
  };
  for (const s of [...refs.keys()].sort()) if (!state.has(s)) visit(s);
}
