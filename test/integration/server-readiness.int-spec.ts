import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createServerApp, shutdownServerApp } from '../../apps/server/src/bootstrap';
import { ServerConfig } from '../../apps/server/src/config/server-config';
import { closedPort, testServices } from '../support/services';

const configFor = (overrides: Record<string, string>) =>
  ServerConfig.fromEnv({ DATABASE_URL: testServices().databaseUrl, REDIS_URL: testServices().redisUrl, LOG_LEVEL: 'silent', ...overrides });

async function readyWithin(app: INestApplication, ms: number): Promise<request.Response> {
  const deadline = Date.now() + ms;
  let last: request.Response;
  do {
    last = await request(app.getHttpServer()).get('/readyz');
    if (last.status === 200) return last;
    await new Promise((r) => setTimeout(r, 100));
  } while (Date.now() < deadline);
  return last;
}

describe('server readiness (real Postgres and Redis)', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    if (app) await shutdownServerApp(app);
    app = undefined;
  });

  it('boots, answers /healthz and turns ready once Postgres and Redis answer', async () => {
    app = await createServerApp(configFor({}));
    await app.init();
    const health = await request(app.getHttpServer()).get('/healthz');
    expect(health.status).toBe(200);
    const ready = await readyWithin(app, 10_000);
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { postgres: { status: 'up' }, redis: { status: 'up' } } });
  });

  it('is live but not ready while Redis is unreachable, naming the failing check', async () => {
    const port = await closedPort();
    app = await createServerApp(configFor({ REDIS_URL: `redis://127.0.0.1:${port}` }));
    await app.init();
    expect((await request(app.getHttpServer()).get('/healthz')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 500)); // let Postgres connect, so only Redis is down
    const ready = await request(app.getHttpServer()).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.redis.status).toBe('down');
    expect(ready.body.checks.postgres.status).toBe('up');
  });

  it('is not ready while Postgres is unreachable', async () => {
    const port = await closedPort();
    app = await createServerApp(configFor({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/flotilla` }));
    await app.init();
    const ready = await request(app.getHttpServer()).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.postgres.status).toBe('down');
  });

  it('serves errors as RFC 9457 problem details', async () => {
    app = await createServerApp(configFor({}));
    await app.init();
    const res = await request(app.getHttpServer()).get('/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(res.text)).toMatchObject({ type: 'urn:flotilla:problem:not-found', status: 404, instance: '/v1/nothing-here' });
  });
});
