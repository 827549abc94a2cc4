/**
 * The structured-logging surface the Raft runtime needs; a pino logger satisfies it.
 * Kept minimal so tests can capture log lines without a logging framework.
 */
export interface RaftLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Discards everything. */
export const silentLogger: RaftLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** A logger that records every line, for tests that assert something was logged. */
export class MemoryLogger implements RaftLogger {
  readonly lines: { level: 'debug' | 'info' | 'warn' | 'error'; msg: string; obj: object }[] = [];
  debug(obj: object, msg: string): void {
    this.lines.push({ level: 'debug', msg, obj });
  }
  info(obj: object, msg: string): void {
    this.lines.push({ level: 'info', msg, obj });
  }
  warn(obj: object, msg: string): void {
    this.lines.push({ level: 'warn', msg, obj });
  }
  error(obj: object, msg: string): void {
    this.lines.push({ level: 'error', msg, obj });
  }
}
