import { describe, expect, it } from 'vitest';
import { commandJsonSchema, parseCommand } from './parse-command';
import { CommandSchema, isRunCommand } from './command.schema';

describe('commands', () => {
  it('normalises a command (version and defaults filled)', () => {
    const result = parseCommand({ type: 'StepCompleted', runId: 'r-1', stepKey: 'think/0/reason', attempt: 1, generation: 1, at: 5 });
    expect(result).toEqual({ ok: true, command: { v: 1, type: 'StepCompleted', runId: 'r-1', stepKey: 'think/0/reason', attempt: 1, generation: 1, at: 5, output: null } });
  });

  it('reports every problem with its JSON path', () => {
    const result = parseCommand({ type: 'RollbackRun', runId: 'bad:id', checkpointId: '', reason: '', actor: 'op', at: -1, patch: [{ op: 'nope', path: '/x' }] });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.path).sort()).toEqual(['/at', '/checkpointId', '/patch/0/op', '/reason', '/runId']);
  });

  it('rejects unknown command types and unknown fields', () => {
    expect(parseCommand({ type: 'DropTables', at: 1 }).ok).toBe(false);
    expect(parseCommand({ type: 'ArchivedWatermark', index: 1, at: 1, extra: true }).ok).toBe(false);
    expect(parseCommand({ type: 'ArchivedWatermark', index: 1, at: 1, v: 2 }).ok).toBe(false);
  });

  it('classifies run-addressed commands', () => {
    const parsed = CommandSchema.parse({ type: 'ArchivedWatermark', index: 1, at: 1 });
    expect(isRunCommand(parsed)).toBe(false);
    expect(isRunCommand(CommandSchema.parse({ type: 'CancelRun', runId: 'r', reason: 'x', actor: 'y', at: 1 }))).toBe(true);
  });

  it('exports a JSON Schema covering every command type', () => {
    const schema = JSON.stringify(commandJsonSchema());
    for (const type of ['RegisterWorkflow', 'StartRun', 'StepAttemptDispatched', 'StepAttemptStarted', 'StepHeartbeat', 'StepCompleted', 'StepFailed', 'StepTimedOut', 'TimerFired', 'SignalReceived', 'CancelRun', 'TakeCheckpoint', 'RollbackRun', 'ForkRun', 'RaiseBudget', 'CompensationCompleted', 'CompensationFailed', 'ArchiveRun', 'ArchivedWatermark'])
      expect(schema).toContain(`"${type}"`);
  });
});
