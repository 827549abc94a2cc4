import { toJsonPointer, type DefinitionProblem, type PathSegment } from './definition-problem';
import { isJsonObject, type JsonValue } from './json-value';

/**
 * A small, deterministic validator for the JSON Schema subset accepted as a definition's
 * `inputSchema`. We validate with our own code instead of a general JSON Schema library so the
 * result is identical on every node and in every replay, and so a definition cannot depend on
 * features (remote `$ref`, `format` plug-ins, regex engines) whose behaviour could drift.
 *
 * Supported keywords: `type` (string or array of `object`, `array`, `string`, `number`,
 * `integer`, `boolean`, `null`), `required`, `properties`, `additionalProperties` (boolean or
 * schema), `items` (one schema), `enum`, `const`, `minItems`, `maxItems`, `minLength`,
 * `maxLength`, `minimum`, `maximum`. Annotations `$schema`, `$id`, `title`, `description`,
 * `default`, `examples` are accepted and ignored. Any other keyword is rejected at registration
 * (`invalid_input_schema`) rather than silently ignored.
 */

const JSON_TYPES = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'] as const;
type JsonTypeName = (typeof JSON_TYPES)[number];

const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', 'default', 'examples']);
const COUNT_KEYWORDS = new Set(['minItems', 'maxItems', 'minLength', 'maxLength']);
const NUMBER_KEYWORDS = new Set(['minimum', 'maximum']);
const SUPPORTED = new Set([
  ...ANNOTATIONS,
  ...COUNT_KEYWORDS,
  ...NUMBER_KEYWORDS,
  'type',
  'required',
  'properties',
  'additionalProperties',
  'items',
  'enum',
  'const',
]);

/** Checks that `schema` (the raw `inputSchema` field, possibly undefined) only uses the supported subset. */
export function checkInputSchemaDocument(schema: unknown): DefinitionProblem[] {
  if (schema === undefined) return [];
  const problems: DefinitionProblem[] = [];
  checkSchemaNode(schema, ['inputSchema'], problems);
  return problems;
}

function checkSchemaNode(node: unknown, path: PathSegment[], problems: DefinitionProblem[]): void {
  const report = (at: PathSegment[], message: string): void => {
    problems.push({ path: toJsonPointer(at), code: 'invalid_input_schema', message });
  };
  if (typeof node === 'boolean') return;
  if (!isJsonObject(node)) return report(path, 'a schema must be an object or a boolean');
  for (const [keyword, value] of Object.entries(node)) {
    const at = [...path, keyword];
    if (!SUPPORTED.has(keyword)) {
      report(at, `unsupported JSON Schema keyword "${keyword}" (supported: ${[...SUPPORTED].filter((k) => !ANNOTATIONS.has(k)).join(', ')})`);
      continue;
    }
    if (keyword === 'type') {
      const names = Array.isArray(value) ? value : [value];
      if (names.length === 0 || !names.every((name) => typeof name === 'string' && (JSON_TYPES as readonly string[]).includes(name)))
        report(at, `type must be one of ${JSON_TYPES.join(', ')} or a non-empty array of them`);
    } else if (keyword === 'required') {
      if (!Array.isArray(value) || !value.every((name) => typeof name === 'string')) report(at, 'required must be an array of strings');
    } else if (keyword === 'properties') {
      if (!isJsonObject(value)) report(at, 'properties must be an object of schemas');
      else for (const [name, child] of Object.entries(value)) checkSchemaNode(child, [...at, name], problems);
    } else if (keyword === 'additionalProperties' || keyword === 'items') {
      checkSchemaNode(value, at, problems);
    } else if (keyword === 'enum') {
      if (!Array.isArray(value) || value.length === 0) report(at, 'enum must be a non-empty array');
    } else if (COUNT_KEYWORDS.has(keyword)) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) report(at, `${keyword} must be a non-negative integer`);
    } else if (NUMBER_KEYWORDS.has(keyword)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) report(at, `${keyword} must be a number`);
    }
  }
}

/**
 * Validates a run's `input` against a definition's `inputSchema` (assumed to have passed
 * `checkInputSchemaDocument`). Returns every mismatch, each with the JSON Pointer of the
 * offending value inside the input (prefixed with `/input`), code `input_mismatch`. Pure.
 */
export function validateAgainstInputSchema(schema: JsonValue | undefined, input: JsonValue): DefinitionProblem[] {
  if (schema === undefined) return [];
  const problems: DefinitionProblem[] = [];
  validateNode(schema, input, ['input'], problems);
  return problems;
}

function typeOf(value: JsonValue): JsonTypeName {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as 'object' | 'string' | 'boolean';
}

function matchesType(value: JsonValue, name: string): boolean {
  const actual = typeOf(value);
  return actual === name || (name === 'number' && actual === 'integer');
}

/** Structural equality of JSON values (object key order is irrelevant). */
export function jsonEquals(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, index) => jsonEquals(item, b[index]));
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && jsonEquals(a[key], b[key]));
  }
  return false;
}

function validateNode(schema: JsonValue, value: JsonValue, path: PathSegment[], problems: DefinitionProblem[]): void {
  const report = (message: string, at: PathSegment[] = path): void => {
    problems.push({ path: toJsonPointer(at), code: 'input_mismatch', message });
  };
  if (schema === false) return report('no value is allowed here');
  if (!isJsonObject(schema)) return;

  const type = schema['type'];
  if (type !== undefined) {
    const names = (Array.isArray(type) ? type : [type]).filter((name): name is string => typeof name === 'string');
    if (!names.some((name) => matchesType(value, name))) return report(`expected ${names.join(' or ')}, got ${typeOf(value)}`);
  }
  const enumValues = schema['enum'];
  if (Array.isArray(enumValues) && !enumValues.some((candidate) => jsonEquals(candidate, value)))
    report(`must be one of ${JSON.stringify(enumValues)}`);
  if (schema['const'] !== undefined && !jsonEquals(schema['const'], value)) report(`must equal ${JSON.stringify(schema['const'])}`);

  if (typeof value === 'string') {
    const length = [...value].length;
    const minLength = schema['minLength'];
    const maxLength = schema['maxLength'];
    if (typeof minLength === 'number' && length < minLength) report(`must be at least ${minLength} characters long`);
    if (typeof maxLength === 'number' && length > maxLength) report(`must be at most ${maxLength} characters long`);
  }
  if (typeof value === 'number') {
    const minimum = schema['minimum'];
    const maximum = schema['maximum'];
    if (typeof minimum === 'number' && value < minimum) report(`must be ≥ ${minimum}`);
    if (typeof maximum === 'number' && value > maximum) report(`must be ≤ ${maximum}`);
  }
  if (Array.isArray(value)) {
    const minItems = schema['minItems'];
    const maxItems = schema['maxItems'];
    if (typeof minItems === 'number' && value.length < minItems) report(`must have at least ${minItems} items`);
    if (typeof maxItems === 'number' && value.length > maxItems) report(`must have at most ${maxItems} items`);
    const items = schema['items'];
    if (items !== undefined) value.forEach((item, index) => validateNode(items, item, [...path, index], problems));
  }
  if (isJsonObject(value)) {
    const required = schema['required'];
    if (Array.isArray(required))
      for (const name of required) if (typeof name === 'string' && !Object.hasOwn(value, name)) report(`missing required property "${name}"`, [...path, name]);
    const properties = isJsonObject(schema['properties']) ? schema['properties'] : {};
    const additional = schema['additionalProperties'];
    for (const [name, child] of Object.entries(value)) {
      const propertySchema = Object.hasOwn(properties, name) ? properties[name] : undefined;
      if (propertySchema !== undefined) validateNode(propertySchema, child, [...path, name], problems);
      else if (additional === false) report(`unknown property "${name}"`, [...path, name]);
      else if (additional !== undefined) validateNode(additional, child, [...path, name], problems);
    }
  }
}
