/** askMembers(): the leader first, then any member, a refusal ends the search (src/agent/member-ask.ts). */
import { askMembers, MemberRefusedError } from '../../src/agent/member-ask.js';
import { RemoteError } from '../../src/p2p/index.js';

function deps(answers: Record<string, () => unknown>, selfId = 'self') {
  const asked: string[] = [];
  return {
    asked,
    deps: {
      selfId,
      store: { leader: 'lead', conf: { voters: ['lead', 'v2', 'self'], learners: ['l1'] } },
      rpc: {
        call: async (peer: string) => {
          asked.push(peer);
          return answers[peer]!();
        },
      },
    },
  };
}
const unreachable = () => {
  throw new Error('dial timeout');
};
const local = async () => 'local answer';
const options = { what: 'the secrets of task t1' };

describe('askMembers()', () => {
  it('asks the leader first, then the next member when one does not answer', async () => {
    const { deps: d, asked } = deps({ lead: unreachable, v2: () => 'from v2' });
    expect(await askMembers(d, 'm', {}, local, options)).toBe('from v2');
    expect(asked).toEqual(['lead', 'v2']);
  });

  it('answers locally when this node is the member asked', async () => {
    const { deps: d, asked } = deps({ lead: unreachable, v2: unreachable });
    expect(await askMembers(d, 'm', {}, local, options)).toBe('local answer');
    expect(asked).toEqual(['lead', 'v2']);
  });

  it("stops at a member's refusal, with its reason and no RPC wrapping", async () => {
    const refused = () => {
      throw new RemoteError('lead', 'm', 'REFUSED', 'task t1 is not assigned to node x');
    };
    const { deps: d, asked } = deps({ lead: refused, v2: () => 'never' });
    const error = await askMembers(d, 'm', {}, local, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MemberRefusedError);
    expect((error as Error).message).toBe('task t1 is not assigned to node x');
    expect(asked).toEqual(['lead']);
  });

  it('names every failure when no member answers', async () => {
    const { deps: d } = deps({ lead: unreachable, v2: unreachable, self: unreachable, l1: unreachable }, 'observer');
    await expect(askMembers(d, 'm', {}, local, options)).rejects.toThrow(
      'Cannot get the secrets of task t1 from any member (lead: dial timeout; v2: dial timeout; self: dial timeout; l1: dial timeout)',
    );
  });
});
