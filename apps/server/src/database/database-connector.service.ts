import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

const RETRY_DELAY_MS = 1_000;

/** Initialises the TypeORM DataSource in the background, retrying until Postgres answers. */
@Injectable()
export class DatabaseConnector implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseConnector.name);
  private stopped = false;
  private connecting: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onApplicationBootstrap(): void {
    this.connecting = this.connect();
  }

  /** True once the DataSource is initialised and a trivial query succeeds. */
  async ping(): Promise<void> {
    if (!this.dataSource.isInitialized) throw new Error('not connected yet');
    await this.dataSource.query('SELECT 1');
  }

  private async connect(): Promise<void> {
    while (!this.stopped && !this.dataSource.isInitialized) {
      try {
        await this.dataSource.initialize();
        this.logger.log('connected to Postgres');
      } catch (error) {
        this.logger.warn(`Postgres not reachable yet: ${(error as Error).message}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, RETRY_DELAY_MS);
          this.wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.connecting;
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
