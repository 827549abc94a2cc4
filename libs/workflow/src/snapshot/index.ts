export * from './machine-snapshot';
