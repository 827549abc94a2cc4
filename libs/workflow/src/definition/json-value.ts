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
