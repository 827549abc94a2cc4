import { z } from 'zod';

/** Thrown when the environment does not satisfy a config schema; lists every invalid key. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly { key: string; message: string }[]) {
    super(`invalid configuration: ${problems.map((p) => `${p.key}: ${p.message}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses environment variables into a typed config once, at boot. Nothing else in the
 * process reads `process.env`; pass the result around instead.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({
    key: issue.path.map(String).join('.') || '(root)',
    message: env[String(issue.path[0])] === undefined && issue.code === 'invalid_type' ? 'is required' : issue.message,
  }));
  throw new ConfigError(problems);
}

/** A TCP port number given as a string. */
export const portSchema = z.coerce.number().int().min(1).max(65535);

/** A URL with one of the given protocols, e.g. `urlSchema('postgres:', 'postgresql:')`. */
export function urlSchema(...protocols: string[]) {
  return z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL with scheme ${protocols.map((p) => p.replace(/:$/, '://')).join(' or ')}` },
  );
}

export const logLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/**
 * For process entry points: returns the parsed config, or writes one line naming every bad
 * variable to stderr and exits with EX_CONFIG (78) — nothing useful can run misconfigured.
 */
export function loadConfigOrExit<T>(appName: string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${appName}: ${error.message}\n`);
    process.exit(78);
  }
}
