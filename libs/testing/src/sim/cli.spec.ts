import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../../../..');
const tsx = resolve(root, 'node_modules/.bin/tsx');
const cli = resolve(__dirname, 'cli.ts');

function sim(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(tsx, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('npm run sim (CLI)', () => {
  it('ends with "N passed, N failed" and exits 0 when every seed passes (two worker processes)', () => {
    const r = sim('--seeds', '12', '--from', '5', '--nodes', '3', '--faults', 'heavy', '--workers', '2');
    const lines = r.stdout.trim().split('\n');
    expect(lines[lines.length - 1], `${r.stdout}\n${r.stderr}`).toBe('12 passed, 0 failed');
    expect(r.status).toBe(0);
  });

  it('prints each failing seed with the broken invariant and exits non-zero', () => {
    const r = sim('--seeds', '4', '--from', '1', '--nodes', '3', '--inject', 'a', '--workers', '1');
    const lines = r.stdout.trim().split('\n');
    const last = lines[lines.length - 1];
    expect(last, r.stderr).toMatch(/^\d+ passed, \d+ failed$/);
    const failed = Number(/(\d+) failed$/.exec(last)?.[1]);
    expect(failed).toBeGreaterThan(0);
    expect(lines.filter((l) => /^seed \d+: commit-rule at tick/.test(l))).toHaveLength(failed);
    expect(r.status).toBe(1);
  });

  it('rejects invalid arguments', () => {
    expect(sim('--seeds', '0').status).not.toBe(0);
    expect(sim('--nodes', '4').status).not.toBe(0);
  });
});
