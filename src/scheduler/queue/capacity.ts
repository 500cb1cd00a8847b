/**
 * Whether one task could ever fit: its reservations against each node's whole capacity (not what
 * is free now). A task that fits on no node, even an empty one, would wait forever; Slurm refuses
 * such a job ("Requested node configuration is not available").
 * @module
 */
import type { NodeView, Reservations } from '../types.js';
import { bytes } from './quota.js';

/** What a node would lack to hold `request` when empty (names of the resources short). */
function shortOf(node: NodeView, request: Reservations): string[] {
  const short: string[] = [];
  if ((request.cpus ?? 0) > node.resources.cpus) short.push('cpu');
  if ((request.memoryBytes ?? 0) > node.resources.memoryBytes) short.push('memory');
  if ((request.gpus ?? 0) > (node.resources.gpus?.length ?? 0)) short.push('gpu');
  for (const [name, count] of Object.entries(request.generic ?? {}))
    if (count > (node.resources.generic?.[name] ?? 0)) short.push(name);
  return short;
}

/** `8 CPUs, 16 GiB memory`, then GPUs and the generic resources when the request asks for them. */
function describe(r: Reservations, request: Reservations): string {
  const parts = [`${(r.cpus ?? 0) / 1000} CPUs`, `${bytes(r.memoryBytes ?? 0)} memory`];
  if ((request.gpus ?? 0) > 0) parts.push(`${r.gpus ?? 0} GPUs`);
  for (const name of Object.keys(request.generic ?? {})) parts.push(`${r.generic?.[name] ?? 0} ${name}`);
  return parts.join(', ');
}

/**
 * Why no node could ever hold one task of `request`, naming what it needs and the largest node
 * (the one short of the fewest resources, then the most CPUs, then the most memory); null when
 * some node could, or when there are no nodes to judge by.
 * @example
 * neverFits({ cpus: 1_000_000 }, nodes)
 * // 'one unit needs 1000 CPUs, 0 B memory; the largest node, gpu1, has 8 CPUs, 16 GiB memory'
 */
export function neverFits(request: Reservations, nodes: readonly NodeView[]): string | null {
  if (nodes.length === 0) return null;
  let best: { node: NodeView; short: string[] } | null = null;
  for (const node of nodes) {
    const short = shortOf(node, request);
    if (short.length === 0) return null;
    const better =
      best === null ||
      short.length < best.short.length ||
      (short.length === best.short.length &&
        (node.resources.cpus - best.node.resources.cpus ||
          node.resources.memoryBytes - best.node.resources.memoryBytes) > 0);
    if (better) best = { node, short };
  }
  const { node, short } = best!;
  const has = { ...node.resources, gpus: node.resources.gpus?.length ?? 0 };
  return (
    `one unit needs ${describe(request, request)}; the largest node, ${node.hostname}, has ${describe(has, request)}` +
    ` (not enough ${short.join(', ')})`
  );
}
