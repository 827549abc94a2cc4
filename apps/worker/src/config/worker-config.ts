import { loadConfig, logLevelSchema, urlSchema } from '@flotilla/config';
import { z } from 'zod';

export const workerConfigSchema = z.object({
  REDIS_URL: urlSchema('redis:', 'rediss:'),
  LOG_LEVEL: logLevelSchema,
  WORKER_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ . -').optional(),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(8),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
});

export type WorkerConfigValues = z.infer<typeof workerConfigSchema>;

/** Typed worker configuration, parsed once at boot. */
export class WorkerConfig {
  constructor(readonly values: WorkerConfigValues) {}

  static fromEnv(env: Record<string, string | undefined>): WorkerConfig {
    return new WorkerConfig(loadConfig(workerConfigSchema, env));
  }
}
