import { loadConfig, urlSchema } from '@flotilla/config';
import { Client } from 'pg';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

/**
 * The real Postgres and Redis the integration and e2e suites run against. `npm test`
 * (scripts/test.sh) starts them and exports these variables; running vitest by hand needs
 * `eval "$(bash scripts/stack.sh env)"` first.
 */
export function testServices(): { databaseUrl: string; redisUrl: string } {
  const env = loadConfig(
    z.object({ DATABASE_URL: urlSchema('postgres:', 'postgresql:'), REDIS_URL: urlSchema('redis:', 'rediss:') }),
    process.env,
  );
  return { databaseUrl: env.DATABASE_URL, redisUrl: env.REDIS_URL };
}

/** Creates an empty database for one test file and returns its URL and a drop function. */
export async function createScratchDatabase(prefix = 'flotilla_it'): Promise<{ url: string; drop: () => Promise<void> }> {
  const { databaseUrl } = testServices();
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** A loopback port nothing listens on (see ./ports). */
export { freePort as closedPort } from './ports';
