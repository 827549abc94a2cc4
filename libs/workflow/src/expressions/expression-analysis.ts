import { isJsonObject, type JsonValue } from '../definition/json-value';
import { compileExpression, type CelAst, type ExpressionResult } from './compile-expression';

/**
 * Static analysis of a CEL expression, used at registration to catch mistakes before a run
 * trips over them: which variables and `steps.<id>` / `run.<field>` it reads, and its result
 * type where that is knowable without data (literals, operators, conversions, macros).
 *
 * Soundness: a non-`dyn` `resultType` is the kind of every successful evaluation (property-
 * tested); `dyn` means "unknown until run time", never "wrong". A reported type error is an
 * ill-typed sub-expression that fails whenever it is evaluated (CEL's `&&`/`||` may still
 * absorb it at run time, as in `false && (1 + 2.0)`; a CEL type checker rejects those too).
 */

/** Statically inferred CEL type; `dyn` when it depends on data. */
export type StaticType = 'bool' | 'int' | 'uint' | 'double' | 'string' | 'bytes' | 'null' | 'list' | 'map' | 'timestamp' | 'duration' | 'type' | 'dyn';

/** A read of `steps.<id>` (or `steps['<id>']`). */
export interface StepReference {
  readonly stepId: string;
  /** True for `has(steps.<id>)`: an existence test, legal even when the step may not have run. */
  readonly testOnly: boolean;
  /** The field read right after the step, e.g. `output` in `steps.a.output.x`; undefined if none. */
  readonly field: string | undefined;
  /**
   * True when the read only happens after `has(steps.<id>)` held: the true branch of
   * `has(steps.<id>) ? … : …` or the right side of `has(steps.<id>) && …`.
   */
  readonly guarded: boolean;
}

export interface ExpressionAnalysis {
  /** Free (not comprehension-bound) identifiers, e.g. `input`, `steps`, or a typo like `inptu`. */
  readonly freeIdentifiers: ReadonlySet<string>;
  readonly stepReferences: readonly StepReference[];
  /** Fields read as `run.<field>`. */
  readonly runFields: readonly string[];
  readonly resultType: StaticType;
  /** Operator applications that fail for every input, e.g. `1 + 'a'` or `!'x'`. */
  readonly typeErrors: readonly string[];
}

type Node = CelAst;

const BOOL_FUNCTIONS = new Set([
  '_==_', '_!=_', '_<_', '_<=_', '_>_', '_>=_', '_&&_', '_||_', '!_', '@in', '@not_strictly_false',
  'contains', 'startsWith', 'endsWith', 'matches', 'bool',
]);
const CONVERSIONS: Record<string, StaticType> = {
  int: 'int', uint: 'uint', double: 'double', string: 'string', bytes: 'bytes', size: 'int',
  timestamp: 'timestamp', duration: 'duration', type: 'type', dyn: 'dyn',
};
const ARITHMETIC = new Set(['_+_', '_-_', '_*_', '_/_', '_%_']);
const ADDABLE: ReadonlySet<StaticType> = new Set(['int', 'uint', 'double', 'string', 'bytes', 'list']);
const NUMERIC: ReadonlySet<StaticType> = new Set(['int', 'uint', 'double']);

/** Static knowledge about the data an expression will see. */
export interface AnalysisOptions {
  /** The definition's `inputSchema`: types `input.<path>` reads (JSON numbers are CEL doubles). */
  readonly inputSchema?: JsonValue;
}

/** Types of `run.<field>` as CEL sees them (JSON numbers are doubles). */
const RUN_FIELD_TYPES: Readonly<Record<string, StaticType>> = {
  id: 'string', workflow: 'string', version: 'double', generation: 'double', rollbacks: 'double',
  autoRollbacks: 'double', iteration: 'double', lastFailure: 'dyn',
};
/** Types of `steps.<id>.<field>`. */
const STEP_FIELD_TYPES: Readonly<Record<string, StaticType>> = { status: 'string', attempts: 'double', iteration: 'double', output: 'dyn', error: 'dyn' };

/** Analyses `source`; a syntax error is returned as an `ExpressionError`, never thrown. */
export function analyzeExpression(source: string, options: AnalysisOptions = {}): ExpressionResult<ExpressionAnalysis> {
  const compiled = compileExpression(source);
  if (!compiled.ok) return compiled;
  const freeIdentifiers = new Set<string>();
  const stepReferences: StepReference[] = [];
  const runFields: string[] = [];
  const typeErrors: string[] = [];

  const stepIdOf = (node: Node, bound: ReadonlySet<string>): string | undefined => {
    const kind = node.exprKind;
    if (kind.case === 'selectExpr' && !kind.value.testOnly && isFreeIdent(kind.value.operand, 'steps', bound)) return kind.value.field;
    if (kind.case === 'callExpr' && kind.value.function === '_[_]' && kind.value.args.length === 2 && isFreeIdent(kind.value.args[0], 'steps', bound)) {
      const key = kind.value.args[1].exprKind;
      if (key.case === 'constExpr' && key.value.constantKind.case === 'stringValue') return key.value.constantKind.value;
    }
    return undefined;
  };

  const visit = (
    node: Node | undefined,
    bound: ReadonlySet<string>,
    accumulators: ReadonlyMap<string, StaticType>,
    guarded: ReadonlySet<string> = new Set(),
  ): StaticType => {
    if (node === undefined) return 'dyn';
    const kind = node.exprKind;
    switch (kind.case) {
      case 'constExpr':
        return constantType(kind.value.constantKind.case);
      case 'identExpr': {
        const name = kind.value.name;
        if (bound.has(name)) return accumulators.get(name) ?? 'dyn';
        freeIdentifiers.add(name);
        if (name === 'index') return 'double';
        if (name === 'input') return inputTypeAt(options.inputSchema, []);
        return 'dyn';
      }
      case 'selectExpr': {
        const { operand, field, testOnly } = kind.value;
        const operandStep = operand === undefined ? undefined : stepIdOf(operand, bound);
        if (operandStep !== undefined && operand !== undefined) {
          stepReferences.push({ stepId: operandStep, testOnly: false, field, guarded: guarded.has(operandStep) });
          visitStepsOperand(operand, bound, accumulators, guarded);
          return testOnly ? 'bool' : (STEP_FIELD_TYPES[field] ?? 'dyn');
        }
        if (operand !== undefined && isFreeIdent(operand, 'steps', bound)) {
          stepReferences.push({ stepId: field, testOnly, field: undefined, guarded: guarded.has(field) });
          freeIdentifiers.add('steps');
          return testOnly ? 'bool' : 'map';
        }
        if (operand !== undefined && isFreeIdent(operand, 'run', bound)) {
          runFields.push(field);
          freeIdentifiers.add('run');
          return testOnly ? 'bool' : (RUN_FIELD_TYPES[field] ?? 'dyn');
        }
        const operandType = visit(operand, bound, accumulators, guarded);
        if (!['dyn', 'map'].includes(operandType)) typeErrors.push(`cannot select field "${field}" of a ${operandType}`);
        if (testOnly) return 'bool';
        const path = inputPath(node, bound);
        return path === undefined ? 'dyn' : inputTypeAt(options.inputSchema, path);
      }
      case 'callExpr': {
        const call = kind.value;
        const indexedStep = stepIdOf(node, bound);
        if (indexedStep !== undefined) {
          stepReferences.push({ stepId: indexedStep, testOnly: false, field: undefined, guarded: guarded.has(indexedStep) });
          freeIdentifiers.add('steps');
          return 'dyn';
        }
        const targetType = call.target === undefined ? undefined : visit(call.target, bound, accumulators, guarded);
        const argTypes = call.args.map((arg, index) => {
          const guardsNext = (call.function === '_?_:_' && index === 1) || (call.function === '_&&_' && index === 1);
          return visit(arg, bound, accumulators, guardsNext ? new Set([...guarded, ...hasGuards(call.args[0], bound)]) : guarded);
        });
        return callType(call.function, targetType, argTypes, typeErrors);
      }
      case 'listExpr':
        kind.value.elements.forEach((element) => visit(element, bound, accumulators, guarded));
        return 'list';
      case 'structExpr':
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === 'mapKey') visit(entry.keyKind.value, bound, accumulators, guarded);
          visit(entry.value, bound, accumulators, guarded);
        }
        return kind.value.messageName === '' ? 'map' : 'dyn';
      case 'comprehensionExpr': {
        const c = kind.value;
        visit(c.iterRange, bound, accumulators, guarded);
        const accuType = visit(c.accuInit, bound, accumulators, guarded);
        const inner = new Set([...bound, c.iterVar, c.accuVar, ...(c.iterVar2 === '' ? [] : [c.iterVar2])]);
        const innerAccumulators = new Map([...accumulators, [c.accuVar, accuType]]);
        visit(c.loopCondition, inner, innerAccumulators, guarded);
        visit(c.loopStep, inner, innerAccumulators, guarded);
        return visit(c.result, inner, innerAccumulators, guarded);
      }
      default:
        return 'dyn';
    }
  };

  /** Visits the operand of `steps.<id>.<field>` for nested identifiers, without double-recording the step. */
  const visitStepsOperand = (operand: Node, bound: ReadonlySet<string>, accumulators: ReadonlyMap<string, StaticType>, guarded: ReadonlySet<string>): void => {
    freeIdentifiers.add('steps');
    const kind = operand.exprKind;
    if (kind.case === 'callExpr') kind.value.args.slice(1).forEach((arg) => visit(arg, bound, accumulators, guarded));
  };

  const resultType = visit(compiled.value.ast, new Set(), new Map());
  return { ok: true, value: { freeIdentifiers, stepReferences, runFields, resultType, typeErrors } };
}

/** `['a', 'b']` for `input.a.b` (input not comprehension-bound), else undefined. */
function inputPath(node: Node, bound: ReadonlySet<string>): string[] | undefined {
  const path: string[] = [];
  let current: Node | undefined = node;
  while (current !== undefined && current.exprKind.case === 'selectExpr') {
    path.unshift(current.exprKind.value.field);
    current = current.exprKind.value.operand;
  }
  return isFreeIdent(current, 'input', bound) ? path : undefined;
}

/**
 * The CEL type of `input.<path>` according to an `inputSchema` (JSON Schema subset), or `dyn`
 * when the schema does not pin it down. `integer` and `number` are both `double` in CEL because
 * run input arrives as JSON.
 */
function inputTypeAt(schema: JsonValue | undefined, path: readonly string[]): StaticType {
  let node: JsonValue | undefined = schema;
  for (const segment of path) {
    if (!isJsonObject(node)) return 'dyn';
    const properties: JsonValue | undefined = node['properties'];
    const additional: JsonValue | undefined = node['additionalProperties'];
    if (isJsonObject(properties) && Object.hasOwn(properties, segment)) node = properties[segment];
    else if (isJsonObject(additional)) node = additional;
    else return 'dyn';
  }
  if (!isJsonObject(node)) return 'dyn';
  const declared = node['type'];
  const names = Array.isArray(declared) ? declared : [declared];
  const types = new Set(names.map((name) => JSON_SCHEMA_TO_CEL[typeof name === 'string' ? name : ''] ?? 'dyn'));
  return types.size === 1 ? [...types][0] : 'dyn';
}

const JSON_SCHEMA_TO_CEL: Readonly<Record<string, StaticType>> = {
  string: 'string', number: 'double', integer: 'double', boolean: 'bool', array: 'list', object: 'map', null: 'null',
};

/** Step ids proven present by a condition: `has(steps.<id>)`, possibly inside a chain of `&&`. */
function hasGuards(condition: Node | undefined, bound: ReadonlySet<string>): string[] {
  if (condition === undefined) return [];
  const kind = condition.exprKind;
  if (kind.case === 'selectExpr' && kind.value.testOnly && isFreeIdent(kind.value.operand, 'steps', bound)) return [kind.value.field];
  if (kind.case === 'callExpr' && kind.value.function === '_&&_') return kind.value.args.flatMap((arg) => hasGuards(arg, bound));
  return [];
}

function isFreeIdent(node: Node | undefined, name: string, bound: ReadonlySet<string>): boolean {
  return node !== undefined && node.exprKind.case === 'identExpr' && node.exprKind.value.name === name && !bound.has(name);
}

function constantType(kind: string | undefined): StaticType {
  switch (kind) {
    case 'boolValue':
      return 'bool';
    case 'int64Value':
      return 'int';
    case 'uint64Value':
      return 'uint';
    case 'doubleValue':
      return 'double';
    case 'stringValue':
      return 'string';
    case 'bytesValue':
      return 'bytes';
    case 'nullValue':
      return 'null';
    default:
      return 'dyn';
  }
}

function callType(name: string, target: StaticType | undefined, args: readonly StaticType[], typeErrors: string[]): StaticType {
  const known = (type: StaticType | undefined): type is StaticType => type !== undefined && type !== 'dyn';
  if (name === '!_' || name === '_&&_' || name === '_||_') {
    for (const arg of args) if (known(arg) && arg !== 'bool') typeErrors.push(`operator ${operatorName(name)} needs bool operands, got ${arg}`);
    return 'bool';
  }
  if (BOOL_FUNCTIONS.has(name)) return 'bool';
  if (name in CONVERSIONS && target === undefined) return CONVERSIONS[name];
  if (name === 'size') return 'int';
  if (name === '-_') {
    const operand = args[0];
    if (known(operand) && !NUMERIC.has(operand) && operand !== 'duration') typeErrors.push(`cannot negate a ${operand}`);
    return operand ?? 'dyn';
  }
  if (ARITHMETIC.has(name) && args.length === 2) {
    const [left, right] = args;
    if (!known(left) || !known(right)) return 'dyn';
    const allowed = name === '_+_' ? ADDABLE : NUMERIC;
    const timeArithmetic = ['timestamp', 'duration'].includes(left) || ['timestamp', 'duration'].includes(right);
    if (timeArithmetic) return 'dyn';
    if (left !== right || !allowed.has(left)) {
      typeErrors.push(`no overload of ${operatorName(name)} for (${left}, ${right})${NUMERIC.has(left) && NUMERIC.has(right) ? ' — JSON numbers are double: write 1.0 or use int()/double()' : ''}`);
      return 'dyn';
    }
    return left;
  }
  if (name === '_?_:_' && args.length === 3) {
    if (known(args[0]) && args[0] !== 'bool') typeErrors.push(`the condition of ?: must be bool, got ${args[0]}`);
    return args[1] === args[2] ? args[1] : 'dyn';
  }
  return 'dyn';
}

function operatorName(name: string): string {
  return name.replace(/_/g, '').replace('@', '') || name;
}
