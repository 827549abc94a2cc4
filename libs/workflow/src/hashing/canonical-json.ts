/**
 * RFC 8785 (JSON Canonicalization Scheme) serialisation of plain JSON data.
 *
 * Invariants:
 * - Two values that are equal as JSON data produce byte-identical output, whatever the key
 *   insertion order of their objects (keys are sorted by UTF-16 code units, RFC 8785 §3.2.3).
 * - Numbers use the ECMAScript shortest round-trip form (RFC 8785 §3.2.2.3), which is what
 *   `JSON.stringify` produces for finite numbers; `-0` serialises as `0`.
 * - `undefined` object members are omitted and `undefined` array slots become `null`, exactly as
 *   `JSON.stringify` does, so data that went through a JSON round-trip hashes the same.
 *
 * Why our own and not the `canonicalize` package: `canonicalize@4` ships ESM only (its `exports`
 * has no `require` condition), so the CommonJS server build could not load it on Node 20. The
 * spec file checks this implementation against `canonicalize` on generated values.
 *
 * Never throws on JSON data; non-finite numbers (not JSON) serialise as `null` like
 * `JSON.stringify`, and lone surrogates are escaped by `JSON.stringify` (well-formed stringify),
 * so hashing is total over anything apply() can hold.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'object':
      if (value === null) return 'null';
      break;
    default:
      return 'null';
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const item: unknown = value[i];
      out += item === undefined || typeof item === 'function' || typeof item === 'symbol' ? 'null' : canonicalJson(item);
    }
    return out + ']';
  }
  const record = value as Record<string, unknown>;
  // Default sort compares UTF-16 code units, exactly the order RFC 8785 §3.2.3 requires.
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const member = record[key];
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
    out += (first ? '' : ',') + JSON.stringify(key) + ':' + canonicalJson(member);
    first = false;
  }
  return out + '}';
}
