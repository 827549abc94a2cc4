import { z } from 'zod';

/**
 * A JSON value as it appears on the wire and in replicated state.
 *
 * Invariant: values of this type survive `JSON.stringify`/`JSON.parse` and RFC 8785
 * canonicalisation unchanged (no `undefined`, functions, bigint, NaN or ±Infinity).
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object (the shape of run input, step output maps and JSON Schema documents). */
export type JsonObject = { [key: string]: JsonValue };

/** Zod schema accepting any JSON value (used for step `input` templates and run `output`). */
export const JsonValueSchema: z.ZodType<JsonValue> = z.json().meta({ id: 'JsonValue' });

/** Type guard: a non-null, non-array object. */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Returns `value` with every `-0` replaced by `0`, sharing untouched subtrees.
 *
 * JSON text cannot carry a negative zero through `JSON.stringify`, so a normalised definition
 * must not hold one either, or validating its serialised form would not reproduce it.
 */
export function withoutNegativeZero<T>(value: T): T {
  if (typeof value === 'number') return (Object.is(value, -0) ? 0 : value) as T;
  if (Array.isArray(value)) {
    const mapped = value.map((item: unknown) => withoutNegativeZero(item));
    return (mapped.every((item, index) => Object.is(item, value[index])) ? value : mapped) as T;
  }
  if (typeof value === 'object' && value !== null) {
    let changed = false;
    const mapped: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const next = withoutNegativeZero(item);
      if (!Object.is(next, item)) changed = true;
      mapped[key] = next;
    }
    return (changed ? mapped : value) as T;
  }
  return value;
}
