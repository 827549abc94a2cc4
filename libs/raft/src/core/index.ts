/**
 * The IO-free Raft core: `RawNode` plus its data types, errors, config and an in-memory
 * `Storage`. Internal modules (`Raft`, `RaftLog`, `Progress`, …) are not exported: hosts drive
 * the core only through `RawNode` and the `Ready` contract (see libs/raft/README.md).
 */
export * from './types';
export * from './errors';
export * from './config';
export * from './memory-storage';
export * from './entry-size';
export * from './membership-change-codec';
export * from './raw-node';
export { newMessage, isLocalMessageType, isResponseMessageType, type MessageFields } from './message';
