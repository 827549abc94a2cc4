import { celList, celMap, isCelList, isCelMap, isCelUint, type CelInput, type CelValue } from '@bufbuild/cel';
import type { JsonValue } from '../definition/json-value';

/** Result of converting a CEL value back to JSON. */
export type CelToJsonResult = { readonly ok: true; readonly value: JsonValue } | { readonly ok: false; readonly message: string };

/**
 * Converts a CEL result to a JSON value, the only kind of value that may enter run state.
 *
 * Mapping: `int`/`uint` → number (error outside ±2^53−1), `double` → number (error for NaN and
 * ±Infinity; −0 becomes 0 so canonical JSON is stable), `string`, `bool`, `null` unchanged,
 * lists → arrays, maps → objects (non-string keys stringified). `bytes`, `timestamp`,
 * `duration`, types and messages are not JSON and yield an error. Never throws.
 */
export function celToJson(value: CelValue): CelToJsonResult {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return { ok: true, value };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, message: `result ${String(value)} is not a JSON number` };
    return { ok: true, value: value === 0 ? 0 : value };
  }
  if (typeof value === 'bigint') return bigintToJson(value);
  if (isCelUint(value)) return bigintToJson(value.value);
  if (isCelList(value)) {
    const items: JsonValue[] = [];
    for (const item of value) {
      const converted = celToJson(item);
      if (!converted.ok) return converted;
      items.push(converted.value);
    }
    return { ok: true, value: items };
  }
  if (isCelMap(value)) {
    const object: { [key: string]: JsonValue } = {};
    for (const [key, item] of value) {
      const converted = celToJson(item);
      if (!converted.ok) return converted;
      const name = isCelUint(key) ? key.value.toString() : String(key);
      Object.defineProperty(object, name, { value: converted.value, enumerable: true, writable: true, configurable: true });
    }
    return { ok: true, value: object };
  }
  if (value instanceof Uint8Array) return { ok: false, message: 'result of type bytes is not JSON' };
  return { ok: false, message: 'result of a message, timestamp, duration or type value is not JSON' };
}

function bigintToJson(value: bigint): CelToJsonResult {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER))
    return { ok: false, message: `integer ${value.toString()} is outside the JSON safe-integer range` };
  return { ok: true, value: Number(value) };
}

/** A short, human-readable name of a CEL value's kind, for error messages. */
export function celKindName(value: CelValue): string {
  if (value === null) return 'null';
  if (typeof value === 'number') return 'double';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (isCelUint(value)) return 'uint';
  if (isCelList(value)) return 'list';
  if (isCelMap(value)) return 'map';
  if (value instanceof Uint8Array) return 'bytes';
  return 'object';
}

/**
 * Converts a JSON value to CEL input with object keys in sorted (UTF-16 code unit) order.
 *
 * Why: CEL exposes map iteration order (`m.map(k, k)`), and a plain object's key order depends
 * on how it was built — live state, replay and a canonical-JSON snapshot could disagree.
 * Sorting makes every expression result a function of the JSON *value* only. Nothing is cached
 * across calls, so callers may mutate their state between evaluations.
 */
export function jsonToCel(value: JsonValue): CelInput {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return celList(value.map(jsonToCel));
  const keys = Object.keys(value).sort();
  return celMap(new Map(keys.map((key) => [key, jsonToCel(value[key])])));
}
