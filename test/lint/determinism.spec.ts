import { ESLint } from 'eslint';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

// Lints fixtures with the repository's real eslint.config.mjs, as if each fixture lived in a
// folder the determinism guard covers. Removing or weakening any rule makes a case here fail.
const root = resolve(__dirname, '../..');
const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', name), 'utf8');

const guardedFolders = ['libs/raft/src/core', 'libs/workflow/src', 'libs/workflow/src/machine'];

const violations: Array<{ fixture: string; rule: string; mentions: RegExp }> = [
  { fixture: 'uses-date.ts', rule: 'no-restricted-globals', mentions: /clock/ },
  { fixture: 'uses-math-random.ts', rule: 'no-restricted-properties', mentions: /Math\.random/ },
  { fixture: 'uses-process-env.ts', rule: 'no-restricted-properties', mentions: /process\.env/ },
  { fixture: 'uses-timers.ts', rule: 'no-restricted-globals', mentions: /timers/ },
  { fixture: 'imports-fs.ts', rule: '@typescript-eslint/no-restricted-imports', mentions: /node:fs/ },
  { fixture: 'imports-net.ts', rule: '@typescript-eslint/no-restricted-imports', mentions: /node:net/ },
  { fixture: 'imports-nestjs.ts', rule: '@typescript-eslint/no-restricted-imports', mentions: /NestJS/ },
  { fixture: 'imports-bullmq.ts', rule: '@typescript-eslint/no-restricted-imports', mentions: /BullMQ/ },
  { fixture: 'imports-typeorm.ts', rule: '@typescript-eslint/no-restricted-imports', mentions: /TypeORM/ },
];

describe('determinism lint guard', () => {
  let eslint: ESLint;
  beforeAll(() => {
    eslint = new ESLint({ cwd: root });
  });

  const lintAs = async (name: string, folder: string) => {
    const [result] = await eslint.lintText(fixture(name), { filePath: join(root, folder, `fixture-${name}`) });
    return result.messages;
  };

  for (const folder of guardedFolders) {
    for (const { fixture: name, rule, mentions } of violations) {
      it(`rejects ${name} in ${folder} (${rule})`, async () => {
        const messages = await lintAs(name, folder);
        const hit = messages.filter((m) => m.ruleId === rule && m.severity === 2 && mentions.test(m.message));
        expect(hit, JSON.stringify(messages, null, 2)).not.toHaveLength(0);
      });
    }

    it(`accepts pure code in ${folder}`, async () => {
      expect(await lintAs('clean.ts', folder)).toEqual([]);
    });
  }

  it('does not apply the guard to the IO shells (apps, raft storage)', async () => {
    for (const folder of ['apps/server/src', 'libs/raft/src/storage']) {
      const messages = await lintAs('uses-date.ts', folder);
      expect(messages.filter((m) => m.ruleId === 'no-restricted-globals')).toEqual([]);
    }
  });
});
