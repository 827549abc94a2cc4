// The determinism guard (DESIGN.md invariant 2): the Raft core and the workflow state machine
// must read no clock, randomness, environment, timers, disk or network, and must not depend on
// the frameworks that wrap them. Kept in its own module so test/lint can lint fixtures with it.

/** Folders whose code must be a pure function of its inputs. */
export const deterministicPaths = ['libs/raft/src/core/**/*.ts', 'libs/workflow/src/**/*.ts'];

const forbiddenModules = [
  { pattern: 'fs', why: 'disk IO' },
  { pattern: 'net', why: 'network IO' },
  { pattern: 'dgram', why: 'network IO' },
  { pattern: 'http', why: 'network IO' },
  { pattern: 'https', why: 'network IO' },
  { pattern: 'child_process', why: 'process IO' },
  { pattern: 'timers', why: 'timers' },
  { pattern: 'worker_threads', why: 'threads' },
];

const restrictedImports = {
  paths: forbiddenModules.flatMap(({ pattern, why }) => [
    { name: pattern, message: `deterministic code must not import ${pattern} (${why})` },
    { name: `node:${pattern}`, message: `deterministic code must not import node:${pattern} (${why})` },
  ]),
  patterns: [
    { group: ['fs/*', 'node:fs/*', 'timers/*', 'node:timers/*'], message: 'deterministic code must not do disk IO or use timers' },
    { group: ['@nestjs/*'], message: 'deterministic code must not depend on NestJS' },
    { group: ['bullmq', 'bullmq/*', 'ioredis'], message: 'deterministic code must not depend on BullMQ/Redis' },
    { group: ['typeorm', 'typeorm/*', 'pg'], message: 'deterministic code must not depend on TypeORM/Postgres' },
  ],
};

const timerNames = ['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate', 'queueMicrotask'];

export const determinismGuard = {
  rules: {
    'no-restricted-imports': 'off',
    '@typescript-eslint/no-restricted-imports': ['error', restrictedImports],
    'no-restricted-globals': [
      'error',
      { name: 'Date', message: 'deterministic code must not read the clock: take timestamps from the command' },
      { name: 'performance', message: 'deterministic code must not read the clock' },
      ...timerNames.map((name) => ({ name, message: `deterministic code must not use timers (${name})` })),
    ],
    'no-restricted-properties': [
      'error',
      { object: 'Math', property: 'random', message: 'deterministic code must not use Math.random: inject a seeded source' },
      { object: 'process', property: 'env', message: 'deterministic code must not read process.env' },
      { object: 'process', property: 'hrtime', message: 'deterministic code must not read the clock' },
      { object: 'crypto', property: 'randomUUID', message: 'deterministic code must not generate random ids' },
      { object: 'crypto', property: 'getRandomValues', message: 'deterministic code must not use randomness' },
      { object: 'globalThis', property: 'Date', message: 'deterministic code must not read the clock' },
    ],
    'no-restricted-syntax': [
      'error',
      { selector: "ImportDeclaration[source.value=/^(node:)?crypto$/] ImportSpecifier[imported.name=/^random/]", message: 'deterministic code must not use randomness from crypto' },
      { selector: "CallExpression[callee.name='require']", message: 'deterministic code must use static imports (require bypasses the import guard)' },
    ],
  },
};
