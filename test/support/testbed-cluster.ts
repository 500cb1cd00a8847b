/**
 * A cluster formed on a test bed: agent 0 inits, the others join it with its token, and every
 * node is a member (3 voters from 3 nodes up) before the test goes on.
 */
import { BUNDLE, NODE, waitFor } from '../agent/support/agents.js';
import type { TestBed } from './testbed.js';

interface Status {
  readonly nodeId: string;
  readonly leader: string | null;
  readonly members: readonly {
    readonly id: string;
    readonly addresses: readonly string[];
    readonly raftRole: string;
  }[];
}

/**
 * Start an agent on every node of `bed` with `flags` and form one cluster; the nodes' ids, in
 * node order. `logs` is shown when a wait times out.
 * @example const ids = await formCluster(bed, ['--tick-ms', '50', '--mesh'], logs);
 */
export async function formCluster(bed: TestBed, flags: readonly string[], logs: () => string): Promise<string[]> {
  const count = bed.nodes.length;
  bed.startAgent(0, [NODE, BUNDLE], ['--init', ...flags]);
  let address = '';
  await waitFor(
    'the first agent to lead',
    async () => {
      const status = await bed.api<Status>(0, '/v1/status');
      address = status?.members.find((m) => m.id === status.leader)?.addresses[0] ?? '';
      return address !== '';
    },
    30_000,
    logs,
  );
  let token = '';
  await waitFor(
    'the join token',
    async () => (token = (await bed.api<{ token: string }>(0, '/v1/token'))?.token ?? '') !== '',
    20_000,
    logs,
  );
  for (let i = 1; i < count; i++) bed.startAgent(i, [NODE, BUNDLE], ['--join', address, '--token', token, ...flags]);
  const voters = count >= 3 ? 3 : 1;
  await waitFor(
    `${count} members, ${voters} of them voters`,
    async () => {
      const members = (await bed.api<Status>(0, '/v1/status'))?.members ?? [];
      return members.length === count && members.filter((m) => m.raftRole === 'voter').length === voters;
    },
    60_000,
    logs,
  );
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await bed.api<Status>(i, '/v1/status?stale=1'))!.nodeId);
  return ids;
}
