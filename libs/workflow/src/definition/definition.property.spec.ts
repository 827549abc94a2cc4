import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StepDefinitionInput, WorkflowDefinitionInput } from './definition.schema';
import { buildStepGraph } from './step-graph';
import { arbitraryDefinition } from './testing/arbitrary-definition';
import { validateDefinition } from './validate-definition';

// Property tests print fast-check's seed and counterexample on failure; rerun one with
// fc.assert(..., { seed, path }) to reproduce it.
const RUNS = 150;

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

function mustValidate(document: WorkflowDefinitionInput) {
  const result = validateDefinition(document);
  if (!result.ok) throw new Error(`generated definition rejected:\n${JSON.stringify(result.problems, null, 2)}\n${JSON.stringify(document, null, 2)}`);
  return result.definition;
}

/** Every level (top level and loop bodies) of a client-form definition, with its JSON path. */
function levels(document: WorkflowDefinitionInput): Array<{ path: string; steps: StepDefinitionInput[] }> {
  const out: Array<{ path: string; steps: StepDefinitionInput[] }> = [];
  const visit = (steps: StepDefinitionInput[], path: string): void => {
    out.push({ path, steps });
    steps.forEach((step, index) => {
      if (step.type === 'loop') visit(step.steps, `${path}/${index}/steps`);
    });
  };
  visit(document.steps, '/steps');
  return out;
}

describe('definition properties', () => {
  it('generated definitions validate; normalisation is idempotent and survives JSON', () => {
    fc.assert(
      fc.property(arbitraryDefinition({ maxLoopDepth: 2 }), (document) => {
        const definition = mustValidate(document);
        expect(validateDefinition(clone(definition))).toEqual({ ok: true, definition });
      }),
      { numRuns: RUNS },
    );
  });

  it('the step graph orders every level topologically and upstream sets are transitive', () => {
    fc.assert(
      fc.property(arbitraryDefinition({ maxLoopDepth: 2 }), (document) => {
        const graph = buildStepGraph(mustValidate(document));
        const loopIds = [undefined, ...[...graph.locations.values()].filter((l) => l.step.type === 'loop').map((l) => l.step.id)];
        for (const loopId of loopIds) {
          const order = graph.topologicalOrder(loopId);
          expect([...order].sort()).toEqual([...graph.levelOf(loopId)].sort());
          const position = new Map(order.map((id, index) => [id, index]));
          for (const id of order) {
            for (const dep of graph.dependenciesOf(id)) expect(position.get(dep)).toBeLessThan(position.get(id) as number);
            const upstream = graph.upstreamOf(id);
            expect(upstream.has(id)).toBe(false);
            for (const dep of graph.dependenciesOf(id)) {
              expect(upstream.has(dep)).toBe(true);
              for (const transitive of graph.upstreamOf(dep)) expect(upstream.has(transitive)).toBe(true);
            }
            for (const dependent of graph.dependentsOf(id)) expect(graph.dependenciesOf(dependent)).toContain(id);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('closing a dependency loop in any level is rejected as a cycle at that level', () => {
    fc.assert(
      fc.property(arbitraryDefinition({ maxLoopDepth: 1 }), fc.nat(), (document, pick) => {
        const candidates = levels(document).filter((level) => level.steps.length >= 2);
        fc.pre(candidates.length > 0);
        const level = candidates[pick % candidates.length];
        const [first, second] = [level.steps[0], level.steps[1]];
        first.dependsOn = [second.id];
        second.dependsOn = [first.id];
        const result = validateDefinition(document);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.problems).toContainEqual(expect.objectContaining({ code: 'dependency_cycle', path: `${level.path}/0/dependsOn` }));
      }),
      { numRuns: RUNS },
    );
  });

  it('a duplicated id anywhere is rejected at the later occurrence', () => {
    fc.assert(
      fc.property(arbitraryDefinition({ maxLoopDepth: 1 }), fc.nat(), fc.nat(), (document, a, b) => {
        const all = levels(document).flatMap((level) => level.steps.map((step, index) => ({ step, path: `${level.path}/${index}` })));
        fc.pre(all.length >= 2);
        const source = all[a % all.length];
        const target = all[b % all.length];
        fc.pre(source !== target);
        const originalTargetId = target.step.id;
        target.step.id = source.step.id;
        // Keep references to the renamed step valid so only the duplicate is at fault.
        const result = validateDefinition(JSON.parse(JSON.stringify(document).split(`"${originalTargetId}"`).join('"zz_renamed"')));
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.problems.some((p) => p.code === 'duplicate_step_id')).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('never throws on arbitrary documents or on random corruptions of valid ones', () => {
    const corruption = fc.record({ pathSeed: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), value: fc.jsonValue({ maxDepth: 2 }) });
    fc.assert(
      fc.property(arbitraryDefinition(), corruption, fc.anything(), (document, { pathSeed, value }, junk) => {
        const corrupted = clone(document) as unknown as Record<string, unknown>;
        let node: unknown = corrupted;
        for (let i = 0; i < pathSeed.length - 1; i += 1) {
          if (typeof node !== 'object' || node === null) break;
          const keys = Object.keys(node);
          if (keys.length === 0) break;
          const next = (node as Record<string, unknown>)[keys[pathSeed[i] % keys.length]];
          if (typeof next !== 'object' || next === null) break;
          node = next;
        }
        if (typeof node === 'object' && node !== null) {
          const keys = Object.keys(node);
          const key = keys.length === 0 ? 'extra' : keys[pathSeed[pathSeed.length - 1] % keys.length];
          (node as Record<string, unknown>)[key] = value;
        }
        for (const candidate of [corrupted, junk]) {
          const result = validateDefinition(candidate);
          if (result.ok) expect(validateDefinition(clone(result.definition))).toEqual(result);
          else {
            expect(result.problems.length).toBeGreaterThan(0);
            for (const problem of result.problems) {
              expect(problem.path === '' || problem.path.startsWith('/')).toBe(true);
              expect(problem.message.length).toBeGreaterThan(0);
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
