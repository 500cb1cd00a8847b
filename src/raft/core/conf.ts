/**
 * Membership: applying one {@link ConfChange} to a {@link ConfState}, with validation.
 *
 * Why single-server changes and not joint consensus (thesis §4.2 vs §4.3): adding or removing
 * one voter at a time means every majority of the old configuration overlaps every majority of
 * the new one, so a change can take effect the moment it is appended, with no intermediate
 * C_old,new phase, no second log entry and no "joint" quorum rules in commit, votes and
 * check-quorum. shoal only ever changes one member at a time (its voter manager promotes a
 * caught-up learner or removes one dead voter), so joint consensus would buy nothing but
 * complexity. Its one subtlety is the bug Ongaro described on raft-dev (2015): a leader elected
 * in a term that has not committed anything may append a change while an uncommitted change of
 * an earlier leader is still in some logs, and the two disjoint changes can yield two leaders.
 * The fix, applied by the leader, is to accept a change only after it has committed an entry
 * of its own term (its Noop), and only one uncommitted change at a time.
 * Learners (non-voters) make growing the cluster safe for availability: a new member catches
 * up as a learner, then a `promote` makes it a voter (thesis §4.2.1).
 */
import { decode, encode } from 'cbor-x';
import type { ConfChange, ConfState, Entry } from '../types.js';
import { EntryType } from '../types.js';

/** The result of validating a change against a configuration. */
export type ConfChangeResult =
  { readonly ok: true; readonly conf: ConfState } | { readonly ok: false; readonly detail: string };

/** Applies `change` to `conf`, or explains why it makes no sense. */
export function applyConfChange(conf: ConfState, change: ConfChange): ConfChangeResult {
  const node = change.node;
  const isVoter = conf.voters.includes(node);
  const isLearner = conf.learners.includes(node);
  const without = (list: readonly string[]): string[] => list.filter((id) => id !== node);
  switch (change.type) {
    case 'addLearner':
      if (isVoter || isLearner) {
        return {
          ok: false,
          detail: `Cannot add ${node} as a learner as it is already a ${isVoter ? 'voter' : 'learner'}`,
        };
      }
      return { ok: true, conf: { voters: [...conf.voters], learners: [...conf.learners, node] } };
    case 'promote':
      if (!isLearner) {
        return {
          ok: false,
          detail: `Cannot promote ${node} as it is not a learner (it is ${isVoter ? 'already a voter' : 'not a member'}): add it as a learner first`,
        };
      }
      return { ok: true, conf: { voters: [...conf.voters, node], learners: without(conf.learners) } };
    case 'demote':
      if (!isVoter) return { ok: false, detail: `Cannot demote ${node} as it is not a voter` };
      if (conf.voters.length === 1) return { ok: false, detail: `Cannot demote ${node} as it is the last voter` };
      return { ok: true, conf: { voters: without(conf.voters), learners: [...conf.learners, node] } };
    case 'remove':
      if (!isVoter && !isLearner) return { ok: false, detail: `Cannot remove ${node} as it is not a member` };
      if (isVoter && conf.voters.length === 1)
        return { ok: false, detail: `Cannot remove ${node} as it is the last voter` };
      return { ok: true, conf: { voters: without(conf.voters), learners: without(conf.learners) } };
    default:
      return {
        ok: false,
        detail: `Cannot apply a membership change of unknown type ${JSON.stringify((change as { type: unknown }).type)}`,
      };
  }
}

/** Encodes a change as the data of a ConfChange entry. */
export function encodeConfChange(change: ConfChange): Uint8Array {
  const plain: ConfChange = change.context
    ? { type: change.type, node: change.node, context: change.context }
    : { type: change.type, node: change.node };
  return encode(plain);
}

/** Decodes a ConfChange entry's data; undefined when it is not a valid change. */
export function decodeConfChange(data: Uint8Array): ConfChange | undefined {
  try {
    const value = decode(data) as Partial<ConfChange> | null;
    if (value && typeof value === 'object' && typeof value.type === 'string' && typeof value.node === 'string') {
      return value as ConfChange;
    }
  } catch {
    // fall through: a malformed change is treated as a no-op on every node alike
  }
  return undefined;
}

/**
 * The founding configuration travels in the log: the first leader of a brand-new cluster puts
 * its bootstrap configuration in the data of its Noop at index 1. Founders all start from the
 * same bootstrapConf, but a joiner has none (that configuration is in no ConfChange entry), so
 * without this a joiner replaying the log from index 1 would compute a wrong configuration —
 * and after a `promote` might believe it is the only voter.
 */
export function encodeFoundingConf(conf: ConfState): Uint8Array {
  return encode({ voters: [...conf.voters], learners: [...conf.learners] });
}

/** The founding configuration carried by `entry`, if it is the index-1 Noop that carries one. */
export function foundingConf(entry: Entry): ConfState | undefined {
  if (entry.index !== 1 || entry.type !== EntryType.Noop || entry.data.length === 0) return undefined;
  try {
    const v = decode(entry.data) as Partial<ConfState> | null;
    const isList = (x: unknown): x is string[] => Array.isArray(x) && x.every((id) => typeof id === 'string');
    if (v && isList(v.voters) && isList(v.learners)) return { voters: v.voters, learners: v.learners };
  } catch {
    // not a configuration: an ordinary Noop
  }
  return undefined;
}

/**
 * The configuration after the ConfChange entries of `entries` applied in order to `base`
 * (reset by a founding configuration at index 1, see {@link encodeFoundingConf}).
 * Invalid changes are skipped, identically on every node, so configurations never diverge.
 */
export function confAfter(base: ConfState, entries: Iterable<Entry>): ConfState {
  let conf = base;
  for (const e of entries) {
    const founding = foundingConf(e);
    if (founding) conf = founding;
    if (e.type !== EntryType.ConfChange) continue;
    const change = decodeConfChange(e.data);
    if (!change) continue;
    const r = applyConfChange(conf, change);
    if (r.ok) conf = r.conf;
  }
  return conf;
}
