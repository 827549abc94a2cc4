import type { RaftTestFaults } from '@flotilla/raft';
import type { HostFaults } from './sim-host';

/**
 * The four injectable bugs the simulator must catch (issue 3):
 * (a) commit an earlier-term entry by counting replicas, (b) vote without the log check,
 * (c) acknowledge appends before persisting them (a host bug), (d) ReadIndex without the
 * heartbeat round.
 */
export type InjectableBug = 'a' | 'b' | 'c' | 'd';

export function faultHooks(bug: InjectableBug): { coreFaults: RaftTestFaults; hostFaults: HostFaults } {
  switch (bug) {
    case 'a':
      return { coreFaults: { commitPriorTermByCounting: true }, hostFaults: {} };
    case 'b':
      return { coreFaults: { voteWithoutLogCheck: true }, hostFaults: {} };
    case 'c':
      return { coreFaults: {}, hostFaults: { ackBeforePersist: true } };
    case 'd':
      return { coreFaults: { readIndexWithoutHeartbeat: true }, hostFaults: {} };
  }
}
