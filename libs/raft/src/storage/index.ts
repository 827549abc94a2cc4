export * from './data-dir-lock';
export * from './entry-tail-cache';
export * from './errors';
export * from './lmdb-log-store';
export * from './log-record-codec';
export * from './snapshot-file-format';
export * from './snapshot-store';
