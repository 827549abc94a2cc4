import { celEnv, CelScalar, isCelError, parse, plan, type CelValue } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { celKindName, celToJson, jsonToCel } from './cel-json';
import type { ExpressionScope } from './expression-scope';
import type { JsonValue } from '../definition/json-value';

/** Why an expression produced no value. `syntax`: does not parse; `evaluation`: CEL runtime error; `type`: wrong result kind. */
export type ExpressionErrorKind = 'syntax' | 'evaluation' | 'type';

/** A typed expression failure; `message` names the expression so it can be shown to an operator as-is. */
export interface ExpressionError {
  readonly kind: ExpressionErrorKind;
  readonly expression: string;
  readonly message: string;
}

/** Either a value or an `ExpressionError`; expression code never throws. */
export type ExpressionResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ExpressionError };

/** Parsed CEL AST root (the `expr` of `parse()`). */
export type CelAst = ReturnType<typeof parse>['expr'];

/**
 * One compiled expression, reusable across evaluations.
 *
 * Invariant: `evaluate` is a pure function of `scope` — CEL has no clock, randomness or IO,
 * and the environment only adds the deterministic `strings` extension — and never throws.
 */
export interface CompiledExpression {
  readonly source: string;
  readonly ast: CelAst;
  evaluate(scope: ExpressionScope | PreparedScope): ExpressionResult<JsonValue>;
}

const preparedBindings = Symbol('preparedBindings');

/**
 * A scope converted to CEL values once, for evaluating several expressions over the same
 * state (e.g. all `${…}` of one input template). Snapshot semantics: later changes to the
 * source scope are not seen.
 */
export interface PreparedScope {
  /** The converted bindings, or why conversion failed (e.g. a value nested too deep to convert). */
  readonly [preparedBindings]: { readonly ok: true; readonly bindings: Record<string, unknown> } | { readonly ok: false; readonly message: string };
}

/** Converts a scope to CEL bindings once (see `PreparedScope`). Never throws. */
export function prepareScope(scope: ExpressionScope): PreparedScope {
  try {
    return { [preparedBindings]: { ok: true, bindings: toBindings(scope) } };
  } catch (error) {
    return { [preparedBindings]: { ok: false, message: `cannot convert the expression scope: ${errorMessage(error)}` } };
  }
}

function bindingsOf(scope: ExpressionScope | PreparedScope): Record<string, unknown> {
  if (!(preparedBindings in scope)) return toBindings(scope);
  const prepared = scope[preparedBindings];
  if (!prepared.ok) throw new Error(prepared.message);
  return prepared.bindings;
}

/**
 * The CEL environment shared by every expression: variables `input`, `steps`, `run`, `item`,
 * `index` (all dynamically typed: JSON numbers are CEL `double`, so write `1.0` or `int(x)`
 * when doing arithmetic with integer literals), standard library plus the `strings` extension.
 */
const environment = celEnv({
  variables: { input: CelScalar.DYN, steps: CelScalar.DYN, run: CelScalar.DYN, item: CelScalar.DYN, index: CelScalar.DYN },
  funcs: strings,
});

const CACHE_LIMIT = 2048;
const cache = new Map<string, ExpressionResult<CompiledExpression>>();

/**
 * Parses and plans `source`. Results (including syntax errors) are memoised per source text;
 * the memo is invisible to callers (same input, same output) and bounded in size.
 */
export function compileExpression(source: string): ExpressionResult<CompiledExpression> {
  const cached = cache.get(source);
  if (cached !== undefined) return cached;
  const result = compileUncached(source);
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  cache.set(source, result);
  return result;
}

function compileUncached(source: string): ExpressionResult<CompiledExpression> {
  if (source.trim() === '') return failure('syntax', source, 'expression is empty');
  let ast: CelAst;
  let program: (bindings: Record<string, unknown>) => unknown;
  try {
    const parsed = parse(source);
    ast = parsed.expr;
    const planned = plan(environment, parsed);
    program = (bindings) => planned(bindings as never);
  } catch (error) {
    return failure('syntax', source, `syntax error in CEL expression "${source}": ${errorMessage(error)}`);
  }
  const evaluate = (scope: ExpressionScope | PreparedScope): ExpressionResult<JsonValue> => {
    let raw: unknown;
    try {
      raw = program(bindingsOf(scope));
    } catch (error) {
      return failure('evaluation', source, `expression "${source}" failed: ${errorMessage(error)}`);
    }
    if (isCelError(raw)) return failure('evaluation', source, `expression "${source}" failed: ${raw.message}`);
    let converted: ReturnType<typeof celToJson>;
    try {
      converted = celToJson(raw as CelValue);
    } catch (error) {
      return failure('type', source, `expression "${source}": result cannot be converted to JSON: ${errorMessage(error)}`);
    }
    if (!converted.ok) return failure('type', source, `expression "${source}": ${converted.message}`);
    return { ok: true, value: converted.value };
  };
  return { ok: true, value: { source, ast, evaluate } };
}

/** Compiles (memoised) and evaluates `source` over `scope`; never throws. */
export function evaluateExpression(source: string, scope: ExpressionScope | PreparedScope): ExpressionResult<JsonValue> {
  const compiled = compileExpression(source);
  return compiled.ok ? compiled.value.evaluate(scope) : compiled;
}

/** Evaluates a `when`/`until` condition; a non-bool result is a `type` error (no truthiness). */
export function evaluateCondition(source: string, scope: ExpressionScope | PreparedScope): ExpressionResult<boolean> {
  const result = evaluateExpression(source, scope);
  if (!result.ok) return result;
  if (typeof result.value !== 'boolean')
    return failure('type', source, `condition "${source}" must evaluate to a bool, got ${jsonKindName(result.value)}`);
  return { ok: true, value: result.value };
}

/** Evaluates a map step's `items`; a non-list result is a `type` error. */
export function evaluateItems(source: string, scope: ExpressionScope | PreparedScope): ExpressionResult<JsonValue[]> {
  const result = evaluateExpression(source, scope);
  if (!result.ok) return result;
  if (!Array.isArray(result.value)) return failure('type', source, `items "${source}" must evaluate to a list, got ${jsonKindName(result.value)}`);
  return { ok: true, value: result.value };
}

/** CEL bindings of a scope: every JSON value converted with sorted keys; absent `item`/`index` stay unbound. */
function toBindings(scope: ExpressionScope): Record<string, unknown> {
  const bindings: Record<string, unknown> = {
    input: jsonToCel(scope.input),
    steps: jsonToCel(scope.steps),
    run: jsonToCel(scope.run),
  };
  if (scope.item !== undefined) bindings['item'] = jsonToCel(scope.item);
  if (scope.index !== undefined) bindings['index'] = scope.index;
  return bindings;
}

function jsonKindName(value: JsonValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'map';
  if (typeof value === 'number') return 'double';
  return celKindName(value);
}

function failure<T>(kind: ExpressionErrorKind, expression: string, message: string): ExpressionResult<T> {
  return { ok: false, error: { kind, expression, message } };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
