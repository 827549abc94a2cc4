import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { ServerConfig } from '../config/server-config';

export const REDIS_CLIENT = Symbol('REDIS_CLIENT');
const logger = new Logger('Redis');

@Injectable()
class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      inject: [ServerConfig],
      // No offline queue: a command while disconnected fails at once, so readiness is honest.
      useFactory: (config: ServerConfig) => {
        const redis = new Redis(config.values.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
        // ioredis reconnects by itself; without a listener every failed attempt is an unhandled error.
        let lastLogged = 0;
        redis.on('error', (error: Error) => {
          if (Date.now() - lastLogged < 10_000) return;
          lastLogged = Date.now();
          logger.warn(`Redis connection error: ${error.message}`);
        });
        return redis;
      },
    },
    RedisCloser,
  ],
  exports: [REDIS_CLIENT],
})
export class RedisModule {}
