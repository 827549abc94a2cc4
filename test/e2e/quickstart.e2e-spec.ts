import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closedPort, testServices } from '../support/services';

// The README's first command, run as a user would (detached so the test can go on), against the
// stack the suite already started: it must migrate, build, start a server and a worker, and the
// server must answer /readyz with 200.
const root = resolve(__dirname, '../..');
const quickstart = (args: string[], env: Record<string, string>) => {
  const base: Record<string, string | undefined> = { ...process.env };
  delete base.DATABASE_URL;
  delete base.REDIS_URL;
  return spawnSync('bash', ['scripts/quickstart.sh', ...args], { cwd: root, env: { ...base, ...env }, encoding: 'utf8', timeout: 240_000 });
};

describe('quickstart (npm start)', () => {
  const { databaseUrl, redisUrl } = testServices();
  const env = { FLOTILLA_PG_PORT: new URL(databaseUrl).port, FLOTILLA_REDIS_PORT: new URL(redisUrl).port, PORT: '' };

  afterAll(() => {
    quickstart(['stop'], env);
  });

  it('brings the server up: /readyz answers 200, and stop takes it down', async () => {
    env.PORT = String(await closedPort());
    const started = quickstart(['--detach'], env);
    expect(started.status, `${started.stdout}\n${started.stderr}`).toBe(0);
    expect(started.stdout).toContain(`API         http://127.0.0.1:${env.PORT}`);
    const ready = await fetch(`http://127.0.0.1:${env.PORT}/readyz`);
    expect(ready.status).toBe(200);

    const stopped = quickstart(['stop'], env);
    expect(stopped.status).toBe(0);
    await expect(fetch(`http://127.0.0.1:${env.PORT}/readyz`)).rejects.toThrow();
  });
});
