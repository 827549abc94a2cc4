// Entry point for the TypeORM CLI (`npm run migration:run|revert|generate`).
import 'reflect-metadata';
import { loadConfig, urlSchema } from '@flotilla/config';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { historyDataSourceOptions } from './data-source-options';

const config = loadConfig(z.object({ DATABASE_URL: urlSchema('postgres:', 'postgresql:') }), process.env);

export default new DataSource(historyDataSourceOptions(config.DATABASE_URL));
