export * from './backoff';
export * from './errors';
export * from './frame-codec';
export * from './handshake';
export * from './logger';
export * from './peer-link';
export * from './tcp-transport';
export * from './transport-stats';
