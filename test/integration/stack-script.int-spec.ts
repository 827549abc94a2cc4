import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testServices } from '../support/services';

const script = resolve(__dirname, '../../scripts/stack.sh');
const run = (args: string[], env: Record<string, string>) => {
  const base: Record<string, string | undefined> = { ...process.env };
  delete base.DATABASE_URL;
  delete base.REDIS_URL;
  const r = spawnSync('bash', [script, ...args], { env: { ...base, ...env }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};

describe('scripts/stack.sh', () => {
  it('starts nothing and hands back the given URLs when DATABASE_URL and REDIS_URL are set', () => {
    const env = { DATABASE_URL: 'postgres://u@127.0.0.1:1/external', REDIS_URL: 'redis://127.0.0.1:2' };
    const up = run(['up'], env);
    expect(up.code).toBe(0);
    expect(up.out).toContain('DATABASE_URL is set: using it, not starting Postgres');
    expect(up.out).toContain('REDIS_URL is set: using it, not starting Redis');
    expect(up.out).not.toMatch(/starting (Postgres|Redis) on/);
    expect(run(['env'], env).out).toBe(`export DATABASE_URL=${env.DATABASE_URL}\nexport REDIS_URL=${env.REDIS_URL}\n`);
  });

  it('is idempotent: `up` on a running stack reports it and returns at once', () => {
    const { databaseUrl, redisUrl } = testServices();
    const ports = { FLOTILLA_PG_PORT: new URL(databaseUrl).port, FLOTILLA_REDIS_PORT: new URL(redisUrl).port };
    const up = run(['up'], ports);
    expect(up.code).toBe(0);
    expect(up.out).toContain(`Postgres already running on 127.0.0.1:${ports.FLOTILLA_PG_PORT}`);
    expect(up.out).toContain(`Redis already running on 127.0.0.1:${ports.FLOTILLA_REDIS_PORT}`);
    const status = run(['status'], ports);
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/postgres: up/);
    expect(status.out).toMatch(/redis: +up/);
  });

  it('rejects an unknown subcommand with usage and exit code 2', () => {
    const r = run(['sideways'], {});
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/usage: .*up\|down\|status\|env/);
  });
});
