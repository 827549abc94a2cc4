import { InvalidConfChangeError } from './errors';
import type { ProgressTracker } from './progress-tracker';
import type { ConfState, MembershipChange } from './types';

/**
 * Membership after applying `change` to `cs` under the single-node-change rules. Pure; the
 * result lists are sorted. Adding a voter as a learner leaves `cs` unchanged (no demotion).
 */
export function applyChangeToConfState(cs: ConfState, change: MembershipChange): ConfState {
  const voters = cs.voters.filter((id) => id !== change.node);
  const learners = cs.learners.filter((id) => id !== change.node);
  switch (change.type) {
    case 'add-learner':
      if (cs.voters.includes(change.node)) return cs;
      learners.push(change.node);
      break;
    case 'add-voter':
    case 'promote':
      voters.push(change.node);
      break;
    case 'remove':
      break;
  }
  return { voters: voters.sort(), learners: learners.sort() };
}

/**
 * Checks that `change` makes sense for the leader's current configuration, throwing
 * {@link InvalidConfChangeError} otherwise. A learner may be promoted only once its `match`
 * reached `committed`, so promoting it never leaves the new quorum waiting on a lagging voter.
 * Never removes the last voter.
 */
export function validateMembershipChange(prs: ProgressTracker, committed: number, change: MembershipChange): void {
  const isVoter = prs.voters.has(change.node);
  const isLearner = prs.learners.has(change.node);
  switch (change.type) {
    case 'add-learner':
      if (isVoter) throw new InvalidConfChangeError(change, 'node is already a voter');
      if (isLearner) throw new InvalidConfChangeError(change, 'node is already a learner');
      return;
    case 'add-voter':
      if (isVoter) throw new InvalidConfChangeError(change, 'node is already a voter');
      return;
    case 'promote': {
      if (!isLearner) throw new InvalidConfChangeError(change, 'node is not a learner');
      const pr = prs.progress.get(change.node);
      if (!pr || pr.match < committed) throw new InvalidConfChangeError(change, 'learner has not caught up with the commit index');
      return;
    }
    case 'remove':
      if (!isVoter && !isLearner) throw new InvalidConfChangeError(change, 'node is not a member');
      if (isVoter && prs.voters.size === 1) throw new InvalidConfChangeError(change, 'cannot remove the last voter');
      return;
  }
}
