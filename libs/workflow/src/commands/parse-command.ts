import { z } from 'zod';
import { CommandSchema, type Command } from './command.schema';

/** A problem with a proposed command: RFC 6901 path into the command and a message. */
export interface CommandProblem {
  readonly path: string;
  readonly message: string;
}

/** Result of `parseCommand`: the normalised command, or every problem with its JSON path. */
export type ParseCommandResult = { ok: true; command: Command } | { ok: false; problems: CommandProblem[] };

/**
 * Validates and normalises a proposed command (fills `v` and defaults). Never throws.
 * Proposers call this at the edge so that bad input never reaches the log (invariant 5);
 * `apply` calls it again and records an unparseable command as rejected instead of throwing.
 */
export function parseCommand(input: unknown): ParseCommandResult {
  const parsed = CommandSchema.safeParse(input);
  if (parsed.success) return { ok: true, command: parsed.data };
  return { ok: false, problems: parsed.error.issues.map((issue) => ({ path: pointer(issue.path), message: issue.message })) };
}

function pointer(path: readonly PropertyKey[]): string {
  return path.map((segment) => '/' + String(segment).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** Re-export so callers can build JSON Schema for clients (`z.toJSONSchema(CommandSchema)`). */
export const commandJsonSchema = (): unknown => z.toJSONSchema(CommandSchema, { io: 'input', unrepresentable: 'any' });
