import { loadConfig, logLevelSchema, portSchema, urlSchema } from '@flotilla/config';
import { z } from 'zod';

export const serverConfigSchema = z.object({
  DATABASE_URL: urlSchema('postgres:', 'postgresql:'),
  REDIS_URL: urlSchema('redis:', 'rediss:'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: portSchema.default(8080),
  LOG_LEVEL: logLevelSchema,
  NODE_ID: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ -').default('n1'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
});

export type ServerConfigValues = z.infer<typeof serverConfigSchema>;

/** Typed server configuration, parsed once at boot; injected wherever settings are needed. */
export class ServerConfig {
  constructor(readonly values: ServerConfigValues) {}

  static fromEnv(env: Record<string, string | undefined>): ServerConfig {
    return new ServerConfig(loadConfig(serverConfigSchema, env));
  }
}
