import { afterEach, describe, expect, it } from 'vitest';
import { closedPort, testServices } from '../support/services';
import { RunningProcess, builtApp, cleanEnv, startNode } from '../support/processes';

const running: RunningProcess[] = [];
afterEach(() => {
  for (const p of running.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});
const start = (app: 'server' | 'worker', env: Record<string, string>) => {
  const p = startNode(builtApp(app), cleanEnv(env));
  running.push(p);
  return p;
};

async function pollReady(port: number, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  const deadline = Date.now() + timeoutMs;
  let last: { status: number; body: unknown } = { status: 0, body: null };
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      last = { status: res.status, body: await res.json() };
      if (res.status === 200) return last;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

describe('server process (built bundle, real Postgres and Redis)', () => {
  it('refuses to start on bad config with one line naming each bad variable', async () => {
    const p = start('server', { REDIS_URL: 'http://not-redis', PORT: 'eighty' });
    const { code } = await p.exited;
    expect(code).toBe(78);
    const lines = p.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^flotilla-server: invalid configuration: /);
    for (const key of ['DATABASE_URL', 'REDIS_URL', 'PORT']) expect(lines[0]).toContain(key);
  });

  it('turns ready, logs JSON, and exits 0 on SIGTERM', async () => {
    const { databaseUrl, redisUrl } = testServices();
    const port = await closedPort();
    const p = start('server', { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, PORT: String(port) });
    const ready = await pollReady(port, 20_000);
    expect(ready.status).toBe(200);
    const firstLine = p.output().split('\n')[0];
    expect(() => JSON.parse(firstLine)).not.toThrow();
    p.child.kill('SIGTERM');
    const { code } = await p.exited;
    expect(code).toBe(0);
    expect(p.output()).toContain('shutdown complete');
  });
});

describe('worker process (built bundle, real Redis)', () => {
  it('connects to Redis, logs, and drains then exits 0 on SIGTERM', async () => {
    const p = start('worker', { REDIS_URL: testServices().redisUrl, WORKER_ID: 'e2e-worker' });
    await p.waitForOutput(/worker connected to Redis and running/);
    p.child.kill('SIGTERM');
    const { code } = await p.exited;
    expect(code).toBe(0);
    const messages = p
      .output()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string; worker: string });
    expect(messages.map((m) => m.msg)).toEqual(expect.arrayContaining(['draining', 'stopped']));
    expect(messages.every((m) => m.worker === 'e2e-worker')).toBe(true);
  });

  it('fails to start when Redis is unreachable', async () => {
    const port = await closedPort();
    const p = start('worker', { REDIS_URL: `redis://127.0.0.1:${port}` });
    const { code } = await p.exited;
    expect(code).toBe(1);
    expect(p.output()).toMatch(/flotilla-worker: failed to start/);
  });
});
