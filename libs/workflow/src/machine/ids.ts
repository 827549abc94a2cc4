/**
 * Deterministic ids derived from state. Separator `|`: BullMQ forbids `:` in custom job ids,
 * and run ids, step keys and checkpoint ids never contain `|` (schemas restrict them).
 */
const SEP = '|';

/** `runId|stepKey[#item]|g<generation>|a<attempt>`: one job per attempt, stable across leaders. */
export function attemptJobId(runId: string, stepKey: string, itemIndex: number | undefined, generation: number, attempt: number): string {
  return [runId, leafKey(stepKey, itemIndex), `g${generation}`, `a${attempt}`].join(SEP);
}

/** `runId|stepKey[#item]|g<generation>|compensate-a<attempt>`. */
export function compensationJobId(runId: string, stepKey: string, itemIndex: number | undefined, generation: number, attempt: number): string {
  return [runId, leafKey(stepKey, itemIndex), `g${generation}`, `compensate-a${attempt}`].join(SEP);
}

/** Timer ids embed generation and attempt, so a timer of a fenced attempt can never match a live one. */
export function timerId(runId: string, kind: string, stepKey: string, itemIndex: number | undefined, generation: number, attempt?: number): string {
  return [runId, leafKey(stepKey, itemIndex), `g${generation}`, attempt === undefined ? '-' : `a${attempt}`, kind].join(SEP);
}

export function leafKey(stepKey: string, itemIndex: number | undefined): string {
  return itemIndex === undefined ? stepKey : `${stepKey}#${itemIndex}`;
}

/** Checkpoint ids are per run: `cp-<n>`. */
export function checkpointId(seq: number): string {
  return `cp-${seq}`;
}
