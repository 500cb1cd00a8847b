/**
 * The join check as the p2p layer will do it: the member verifies a joiner's proof against the
 * token key in its replicated state, so a rotation committed to the log retires old tokens.
 */
import { EntryType } from '../../src/raft/types.js';
import {
  computeJoinProof,
  createClusterId,
  createJoinNonce,
  createJoinToken,
  parseJoinToken,
  tokenCommandFields,
  tokenKey,
  verifyJoinProof,
} from '../../src/security/index.js';
import { ClusterStateMachine, encodeCommand, type Command } from '../../src/state/index.js';

const MEMBER = '12D3KooWMemberMemberMemberMemberMemberMemberMember';
const JOINER = '12D3KooWJoinerJoinerJoinerJoinerJoinerJoinerJoiner';

function memberState(commands: Command[]): ClusterStateMachine {
  const machine = new ClusterStateMachine();
  commands.forEach((command, i) => {
    const result = machine.apply({ index: i + 1, term: 1, type: EntryType.Normal, data: encodeCommand(command) });
    expect(result.ok).toBe(true);
  });
  return machine;
}

/** What the member runs on a join attempt: check the proof against its replicated state. */
function memberChecks(machine: ClusterStateMachine, nonce: Uint8Array, proof: Uint8Array, joiner = JOINER) {
  return verifyJoinProof({
    tokenKey: machine.tokenKey()!.key,
    clusterId: machine.cluster()!.id,
    nonce,
    joinerPeerId: joiner,
    memberPeerId: MEMBER,
    proof,
  });
}

/** What the joiner runs: answer the challenge from the pasted token text. */
function joinerAnswers(tokenText: string, nonce: Uint8Array): Uint8Array {
  const token = parseJoinToken(tokenText);
  return computeJoinProof({
    tokenKey: tokenKey(token.secret),
    clusterId: token.clusterId,
    nonce,
    joinerPeerId: JOINER,
    memberPeerId: MEMBER,
  });
}

describe('join flow against the replicated state', () => {
  const clusterId = createClusterId();
  const first = createJoinToken(clusterId);
  const second = createJoinToken(clusterId);
  const initCommand: Command = {
    v: 1,
    type: 'cluster.init',
    clusterId,
    name: 'lab',
    ...tokenCommandFields(first.secret),
    at: 1,
  };

  it('admits a joiner holding the current token, and only for the nonce it answered', () => {
    const machine = memberState([initCommand]);
    const nonce = createJoinNonce();
    const proof = joinerAnswers(first.text, nonce);
    expect(memberChecks(machine, nonce, proof)).toEqual({ ok: true });
    expect(memberChecks(machine, createJoinNonce(), proof).ok).toBe(false);
    expect(memberChecks(machine, nonce, proof, '12D3KooWThiefThiefThiefThiefThiefThiefThiefThiefThi').ok).toBe(false);
  });

  it('refuses the old token once a rotation is applied, and admits the new one', () => {
    const machine = memberState([
      initCommand,
      { v: 1, type: 'token.rotate', ...tokenCommandFields(second.secret), at: 2 },
    ]);
    const nonce = createJoinNonce();
    expect(memberChecks(machine, nonce, joinerAnswers(first.text, nonce))).toMatchObject({
      ok: false,
      reason: 'mismatch',
    });
    expect(memberChecks(machine, nonce, joinerAnswers(second.text, nonce))).toEqual({ ok: true });
    expect(machine.tokenKey()!.fingerprint).toBe(tokenCommandFields(second.secret).fingerprint);
  });

  it('keeps the secret out of the replicated state', () => {
    const machine = memberState([initCommand]);
    expect(Buffer.from(machine.snapshot()).includes(first.secret)).toBe(false);
  });
});
