import type { DataSourceOptions } from 'typeorm';
import { allMigrations } from '../../../migrations';
import { historyEntities } from './entities';

/**
 * The one description of Flotilla's Postgres schema wiring: entities plus the migrations in
 * migrations/, which are the only source of schema (`synchronize` stays off).
 */
export function historyDataSourceOptions(databaseUrl: string): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: historyEntities,
    migrations: allMigrations,
    migrationsTableName: 'typeorm_migrations',
    synchronize: false,
    migrationsRun: false,
    logging: ['error'],
  };
}
