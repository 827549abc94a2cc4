export * from './command.schema';
export * from './parse-command';
