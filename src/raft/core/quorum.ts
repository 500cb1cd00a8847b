/**
 * Majority arithmetic, with no Raft types (etcd's `quorum` package): who counts is a list of
 * voter ids, what they said is a lookup.
 */

/** The outcome of a vote so far. */
export type VoteResult = 'won' | 'lost' | 'pending';

/** Number of voters that make a majority. */
export function majority(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/**
 * The largest index that a majority of `voters` have acknowledged (`matchOf` gives each
 * voter's acknowledged index). 0 for an empty voter list, so nothing commits without voters.
 */
export function committedIndex(voters: readonly string[], matchOf: (id: string) => number): number {
  if (voters.length === 0) return 0;
  const matches = voters.map(matchOf).sort((a, b) => b - a);
  return matches[majority(voters.length) - 1]!;
}

/** Tallies `votes` (true = granted) among `voters`; votes of non-voters are ignored. */
export function voteResult(voters: readonly string[], votes: ReadonlyMap<string, boolean>): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === true) granted++;
    else if (v === false) rejected++;
  }
  const need = majority(voters.length);
  if (granted >= need) return 'won';
  if (voters.length - rejected < need) return 'lost';
  return 'pending';
}

/** Whether the voters for which `yes(id)` holds form a majority. */
export function hasQuorum(voters: readonly string[], yes: (id: string) => boolean): boolean {
  let n = 0;
  for (const id of voters) if (yes(id)) n++;
  return voters.length > 0 && n >= majority(voters.length);
}
