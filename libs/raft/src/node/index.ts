export * from './entry-envelope';
export * from './errors';
export * from './raft-node';
export * from './raft-node-options';
export * from './state-machine';
export * from './wire-message';
