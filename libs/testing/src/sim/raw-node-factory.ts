import { RawNode } from '@flotilla/raft';
import type { RaftNodeFactory } from './sim-raft-node';

/** Builds the real Raft core (`RawNode`) for the simulator. */
export const rawNodeFactory: RaftNodeFactory = (config, storage) => new RawNode(config, storage);
