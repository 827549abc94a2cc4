import { Inject, Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { DatabaseConnector } from '../database/database-connector.service';
import { REDIS_CLIENT } from '../redis/redis.module';

export type CheckResult = { status: 'up' } | { status: 'down'; error: string };
export interface Readiness {
  ready: boolean;
  checks: Record<string, CheckResult>;
}

const CHECK_TIMEOUT_MS = 2_000;

/** Readiness is more than liveness: every dependency the server needs must answer. */
@Injectable()
export class ReadinessService {
  private shuttingDown = false;

  constructor(
    private readonly database: DatabaseConnector,
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
  ) {}

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  async check(): Promise<Readiness> {
    const [postgres, redis] = await Promise.all([
      this.probe(() => this.database.ping()),
      this.probe(async () => {
        const reply = await this.redis.ping();
        if (reply !== 'PONG') throw new Error(`unexpected PING reply ${reply}`);
      }),
    ]);
    const checks: Record<string, CheckResult> = { postgres, redis };
    if (this.shuttingDown) checks.server = { status: 'down', error: 'shutting down' };
    return { ready: Object.values(checks).every((c) => c.status === 'up'), checks };
  }

  private async probe(fn: () => Promise<void>): Promise<CheckResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
    });
    try {
      await Promise.race([fn(), timeout]);
      return { status: 'up' };
    } catch (error) {
      return { status: 'down', error: (error as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }
}
