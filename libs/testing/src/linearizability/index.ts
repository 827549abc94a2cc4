export * from './history';
export * from './check-linearizability';
export * from './kv-register-model';
