import { historyDataSourceOptions } from '@flotilla/history';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ServerConfig } from '../config/server-config';
import { DatabaseConnector } from './database-connector.service';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [ServerConfig],
      // Connected by DatabaseConnector in the background, so the server boots and answers
      // /healthz while Postgres is still coming up; /readyz reports it until then.
      useFactory: (config: ServerConfig) => ({ ...historyDataSourceOptions(config.values.DATABASE_URL), manualInitialization: true }),
    }),
  ],
  providers: [DatabaseConnector],
  exports: [DatabaseConnector],
})
export class DatabaseModule {}
