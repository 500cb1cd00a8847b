/**
 * The configuration as of the last *applied* entry. The core's configuration takes effect on
 * append and may run ahead of what is committed; a snapshot must record the configuration at
 * its own index, so the driver tracks it from committed ConfChange entries.
 */
import type { ConfChange, ConfState } from '../types.js';

export function applyCommittedConfChange(conf: ConfState, change: ConfChange): ConfState {
  const voters = conf.voters.filter((id) => id !== change.node);
  const learners = conf.learners.filter((id) => id !== change.node);
  switch (change.type) {
    case 'addLearner':
    case 'demote':
      learners.push(change.node);
      break;
    case 'promote':
      voters.push(change.node);
      break;
    case 'remove':
      break;
  }
  return { voters: voters.sort(), learners: learners.sort() };
}
