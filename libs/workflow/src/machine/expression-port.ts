import type { JsonValue } from '../definition/json-value';
import {
  evaluateCondition as celCondition,
  evaluateExpression as celValue,
  evaluateItems as celItems,
  renderTemplate as celTemplate,
  type ExpressionScope,
} from '../expressions';

/**
 * The machine's narrow view of the expressions module: every call returns a value or a
 * message (never throws), so a run-time expression error fails the step with a clear message.
 */
export type ExpressionEnv = ExpressionScope;

/** Result of evaluating an expression or template. */
export type EvalOutcome<T> = { ok: true; value: T } | { ok: false; message: string };

export function evaluateValue(expression: string, env: ExpressionEnv): EvalOutcome<JsonValue> {
  const result = celValue(expression, env);
  return result.ok ? { ok: true, value: result.value } : { ok: false, message: result.error.message };
}

export function evaluateCondition(expression: string, env: ExpressionEnv): EvalOutcome<boolean> {
  const result = celCondition(expression, env);
  return result.ok ? { ok: true, value: result.value } : { ok: false, message: result.error.message };
}

export function evaluateList(expression: string, env: ExpressionEnv): EvalOutcome<JsonValue[]> {
  const result = celItems(expression, env);
  return result.ok ? { ok: true, value: result.value } : { ok: false, message: result.error.message };
}

/** Renders a `${…}` template; an absent template renders as `null`. */
export function renderTemplate(template: JsonValue | undefined, env: ExpressionEnv): EvalOutcome<JsonValue> {
  if (template === undefined) return { ok: true, value: null };
  const result = celTemplate(template, env);
  if (result.ok) return { ok: true, value: result.value };
  return { ok: false, message: result.error.path ? `${result.error.message} (at ${result.error.path})` : result.error.message };
}
