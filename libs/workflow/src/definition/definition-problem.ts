/**
 * One problem found in a workflow definition (or in run input checked against `inputSchema`).
 *
 * `path` is an RFC 6901 JSON Pointer into the submitted document (`""` is the whole document,
 * `/steps/2/when` the `when` of the third top-level step), so the REST layer can put it into
 * an RFC 9457 problem response unchanged. `code` is a stable machine-readable classifier;
 * callers must branch on `code`, never on `message` text.
 */
export interface DefinitionProblem {
  readonly path: string;
  readonly code: DefinitionProblemCode;
  readonly message: string;
}

/** Stable classifiers of definition problems; persisted/published values never change. */
export type DefinitionProblemCode =
  | 'schema'
  | 'too_large'
  | 'duplicate_step_id'
  | 'unknown_dependency'
  | 'duplicate_dependency'
  | 'dependency_cycle'
  | 'dependency_out_of_scope'
  | 'self_dependency'
  | 'missing_compensate'
  | 'effect_mismatch'
  | 'expression_syntax'
  | 'expression_type'
  | 'unknown_variable'
  | 'unknown_step_reference'
  | 'unreachable_step_reference'
  | 'invalid_input_schema'
  | 'input_mismatch';

/** A JSON Pointer segment, i.e. an object key or an array index. */
export type PathSegment = string | number;

/** Encodes path segments as an RFC 6901 JSON Pointer (`~` → `~0`, `/` → `~1`). */
export function toJsonPointer(segments: readonly PathSegment[]): string {
  return segments.map((segment) => '/' + String(segment).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}
