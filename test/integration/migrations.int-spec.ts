import { historyDataSourceOptions } from '@flotilla/history';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allMigrations } from '../../migrations';
import { createScratchDatabase } from '../support/services';

const tables = ['checkpoints', 'history_entries', 'run_steps', 'runs', 'workflow_definitions'];

describe('migrations (real Postgres)', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let dataSource: DataSource;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    dataSource = new DataSource(historyDataSourceOptions(scratch.url));
    await dataSource.initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await scratch?.drop();
  });

  const existingTables = async (): Promise<string[]> => {
    const rows: Array<{ table_name: string }> = await dataSource.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'typeorm_migrations' ORDER BY table_name`,
    );
    return rows.map((r) => r.table_name);
  };

  it('applies every migration to an empty database', async () => {
    expect(await existingTables()).toEqual([]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    expect(applied.map((m) => m.name)).toEqual(allMigrations.map((m) => m.name));
    expect(await existingTables()).toEqual(tables);
    expect(await dataSource.showMigrations()).toBe(false);
  });

  it('leaves the schema exactly as the entities describe it (nothing to generate)', async () => {
    const sql = await dataSource.driver.createSchemaBuilder().log();
    expect(sql.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('round-trips a history row through the entity mapping', async () => {
    await dataSource.query(
      `INSERT INTO history_entries (log_index, term, run_id, command_type, command, prev_hash, hash, proposed_at) VALUES (7, 2, 'run-1', 'StartRun', '{"a":1}', null, 'h1', now())`,
    );
    const [row] = await dataSource.query(`SELECT log_index, command FROM history_entries WHERE log_index = 7`);
    expect(row).toEqual({ log_index: '7', command: { a: 1 } });
  });

  it('reverts every migration, leaving no table behind', async () => {
    for (let i = 0; i < allMigrations.length; i += 1) await dataSource.undoLastMigration({ transaction: 'each' });
    expect(await existingTables()).toEqual([]);
    expect(await dataSource.showMigrations()).toBe(true);
  });
});
