// The IO-free consensus core, then the shells that give it a disk, a network and a process.
export * from './core';
export * from './storage';
export * from './transport';
export * from './node';
export * from './kv';
