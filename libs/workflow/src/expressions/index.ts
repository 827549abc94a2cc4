/**
 * CEL expressions over `{input, steps, run}` (plus `item`/`index` in map inputs) and `${…}`
 * input templates. Evaluation is pure and never throws: failures come back as typed
 * `ExpressionError`s so the state machine can fail the step with a clear message.
 */
export * from './expression-scope';
export * from './compile-expression';
export * from './template';
export * from './expression-analysis';
export { celToJson, jsonToCel } from './cel-json';
