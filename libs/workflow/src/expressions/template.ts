import { isJsonObject, type JsonValue } from '../definition/json-value';
import { toJsonPointer, type PathSegment } from '../definition/definition-problem';
import { evaluateExpression, prepareScope, type ExpressionError, type ExpressionResult, type PreparedScope } from './compile-expression';
import type { ExpressionScope } from './expression-scope';

/**
 * `${…}` templates in step input.
 *
 * Rules: a string that is exactly one `${expr}` (no surrounding text) renders to the
 * expression's typed JSON value; otherwise every `${expr}` is replaced by its value stringified
 * (strings as-is, everything else as JSON). `$${` is a literal `${`. The expression ends at the
 * `}` that balances its `${`, ignoring braces inside CEL string literals, so map literals and
 * strings containing `}` work. Object keys are never templated.
 */

/** One piece of a parsed template string. */
export type TemplateSegment = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'expression'; readonly source: string };

/** A `${…}` expression found in a template, with the JSON Pointer segments of its string. */
export interface TemplateExpression {
  readonly path: readonly PathSegment[];
  readonly source: string;
}

/** A template failure: the expression error plus the JSON Pointer (inside the template) of the string. */
export interface TemplateError extends ExpressionError {
  readonly path: string;
}

/** Splits a string into text and `${expr}` segments; a syntax error for an unterminated or empty `${`. */
export function parseTemplateString(text: string): ExpressionResult<TemplateSegment[]> {
  const segments: TemplateSegment[] = [];
  let buffer = '';
  let index = 0;
  while (index < text.length) {
    if (text.startsWith('$${', index)) {
      buffer += '${';
      index += 3;
      continue;
    }
    if (!text.startsWith('${', index)) {
      buffer += text[index];
      index += 1;
      continue;
    }
    const end = findExpressionEnd(text, index + 2);
    if (end === -1) return { ok: false, error: { kind: 'syntax', expression: text, message: `unterminated "\${" in template "${text}"` } };
    const source = text.slice(index + 2, end).trim();
    if (source === '') return { ok: false, error: { kind: 'syntax', expression: text, message: `empty "\${}" in template "${text}"` } };
    if (buffer !== '') segments.push({ kind: 'text', text: buffer });
    buffer = '';
    segments.push({ kind: 'expression', source });
    index = end + 1;
  }
  if (buffer !== '') segments.push({ kind: 'text', text: buffer });
  return { ok: true, value: segments };
}

/** Index of the `}` closing an expression that starts at `start`, or -1. Skips quoted CEL strings. */
function findExpressionEnd(text: string, start: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let index = start; index < text.length; index += 1) {
    const char = text[index];
    if (quote !== undefined) {
      if (char === '\\') index += 1;
      else if (char === quote) quote = undefined;
      continue;
    }
    if (char === '"' || char === "'") quote = char;
    else if (char === '{') depth += 1;
    else if (char === '}') {
      if (depth === 0) return index;
      depth -= 1;
    }
  }
  return -1;
}

/** Every `${…}` in a template value (depth-first, object keys in insertion order), or the first syntax error. */
export function collectTemplateExpressions(template: JsonValue): { expressions: TemplateExpression[]; errors: TemplateError[] } {
  const expressions: TemplateExpression[] = [];
  const errors: TemplateError[] = [];
  const visit = (value: JsonValue, path: PathSegment[]): void => {
    if (typeof value === 'string') {
      const parsed = parseTemplateString(value);
      if (!parsed.ok) errors.push({ ...parsed.error, path: toJsonPointer(path) });
      else for (const segment of parsed.value) if (segment.kind === 'expression') expressions.push({ path, source: segment.source });
    } else if (Array.isArray(value)) value.forEach((item, index) => visit(item, [...path, index]));
    else if (isJsonObject(value)) for (const [key, item] of Object.entries(value)) visit(item, [...path, key]);
  };
  visit(template, []);
  return { expressions, errors };
}

/**
 * Renders a template over `scope`. Never throws: the first failing expression (depth-first
 * order) yields `{ok: false}` with the JSON Pointer of its string inside the template.
 */
export function renderTemplate(
  template: JsonValue,
  scope: ExpressionScope | PreparedScope,
): { ok: true; value: JsonValue } | { ok: false; error: TemplateError } {
  // Convert the scope at most once per render, and only if the template has an expression.
  let prepared: PreparedScope | undefined;
  const scopeOnce = (): PreparedScope => (prepared ??= 'input' in scope ? prepareScope(scope) : scope);
  const render = (value: JsonValue, path: PathSegment[]): { ok: true; value: JsonValue } | { ok: false; error: TemplateError } => {
    if (typeof value === 'string') {
      const rendered = value.includes('${') ? renderTemplateString(value, scopeOnce()) : renderTemplateString(value, scope);
      return rendered.ok ? rendered : { ok: false, error: { ...rendered.error, path: toJsonPointer(path) } };
    }
    if (Array.isArray(value)) {
      const items: JsonValue[] = [];
      for (let index = 0; index < value.length; index += 1) {
        const item = render(value[index], [...path, index]);
        if (!item.ok) return item;
        items.push(item.value);
      }
      return { ok: true, value: items };
    }
    if (isJsonObject(value)) {
      const object: { [key: string]: JsonValue } = {};
      for (const [key, item] of Object.entries(value)) {
        const rendered = render(item, [...path, key]);
        if (!rendered.ok) return rendered;
        Object.defineProperty(object, key, { value: rendered.value, enumerable: true, writable: true, configurable: true });
      }
      return { ok: true, value: object };
    }
    return { ok: true, value };
  };
  return render(template, []);
}

/** Renders one template string (see module rules). */
export function renderTemplateString(text: string, scope: ExpressionScope | PreparedScope): ExpressionResult<JsonValue> {
  const parsed = parseTemplateString(text);
  if (!parsed.ok) return parsed;
  const segments = parsed.value;
  if (segments.length === 1 && segments[0].kind === 'expression') return evaluateExpression(segments[0].source, scope);
  const expressionCount = segments.filter((segment) => segment.kind === 'expression').length;
  const shared = expressionCount > 1 && 'input' in scope ? prepareScope(scope) : scope;
  let output = '';
  for (const segment of segments) {
    if (segment.kind === 'text') {
      output += segment.text;
      continue;
    }
    const result = evaluateExpression(segment.source, shared);
    if (!result.ok) return result;
    output += typeof result.value === 'string' ? result.value : JSON.stringify(result.value);
  }
  return { ok: true, value: output };
}
