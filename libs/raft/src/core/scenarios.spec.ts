/**
 * Interaction scenarios: each file in testing/scenarios is a script of commands, each followed
 * by the expected message trace (format: testing/script.ts). Regenerate after an intended
 * behaviour change with `UPDATE_SCENARIOS=1 npx vitest run --project unit libs/raft/src/core/scenarios`
 * and review the diff like code.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScenarioRunner } from './testing/script';

const dir = join(__dirname, 'testing', 'scenarios');
const update = process.env.UPDATE_SCENARIOS === '1';

interface Block {
  readonly command: string;
  readonly expected: string[];
}

function parse(source: string): Block[] {
  const blocks: Block[] = [];
  const lines = source.split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) {
      i++;
      continue;
    }
    if (lines[i + 1]?.trim() !== '----') throw new Error(`line ${i + 2}: expected ---- after "${line}"`);
    i += 2;
    const expected: string[] = [];
    while (i < lines.length && lines[i].trim() !== '') expected.push(lines[i++].trim());
    blocks.push({ command: line, expected });
  }
  return blocks;
}

function render(source: string, outputs: string[][]): string {
  // Keep leading comments; rewrite every block with its actual output.
  const comments = source.split('\n').filter((l, idx, all) => l.startsWith('#') && all.slice(0, idx).every((p) => p.startsWith('#')));
  const blocks = parse(source);
  const body = blocks.map((b, k) => [b.command, '----', ...outputs[k]].join('\n')).join('\n\n');
  return `${comments.length ? `${comments.join('\n')}\n\n` : ''}${body}\n`;
}

describe('interaction scenarios', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
    it(file, () => {
      const path = join(dir, file);
      const source = readFileSync(path, 'utf8');
      const runner = new ScenarioRunner();
      const blocks = parse(source);
      const outputs = blocks.map((b) => runner.run(b.command));
      if (update) {
        writeFileSync(path, render(source, outputs));
        return;
      }
      blocks.forEach((b, k) => expect(outputs[k], `${file}: ${b.command}`).toEqual(b.expected));
    });
  }
});
