import Redis from 'ioredis';
import type { Logger } from 'pino';
import { WorkerConfig } from './config/worker-config';

/** running → draining → stopped, or failed; the host never goes back. */
export type WorkerState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

/**
 * The worker process's lifecycle: holds the Redis connection that task consumers share and
 * drains them before closing it. Task handlers plug in through the SDK (later issue).
 */
export class WorkerHost {
  private redis: Redis | undefined;
  private stateValue: WorkerState = 'starting';
  private readonly drainHooks: Array<() => Promise<void>> = [];

  constructor(
    private readonly config: WorkerConfig,
    private readonly logger: Logger,
  ) {}

  get state(): WorkerState {
    return this.stateValue;
  }

  /** Registers work to finish (in-flight jobs, consumers) before the connection closes. */
  onDrain(hook: () => Promise<void>): void {
    this.drainHooks.push(hook);
  }

  async start(): Promise<void> {
    // BullMQ's blocking commands need maxRetriesPerRequest: null.
    this.redis = new Redis(this.config.values.REDIS_URL, { maxRetriesPerRequest: null, connectTimeout: 5_000, lazyConnect: true });
    this.redis.on('error', (error: Error) => this.logger.warn({ err: error.message }, 'redis connection error'));
    try {
      await this.redis.connect();
      const pong = await this.redis.ping();
      if (pong !== 'PONG') throw new Error(`unexpected PING reply ${pong}`);
    } catch (error) {
      this.stateValue = 'failed';
      this.redis.disconnect();
      throw error;
    }
    this.stateValue = 'running';
    this.logger.info({ concurrency: this.config.values.WORKER_CONCURRENCY }, 'worker connected to Redis and running');
  }

  async stop(): Promise<void> {
    if (this.stateValue === 'stopped' || this.stateValue === 'draining') return;
    this.stateValue = 'draining';
    this.logger.info('draining');
    for (const hook of this.drainHooks) await hook();
    await this.redis?.quit().catch(() => this.redis?.disconnect());
    this.stateValue = 'stopped';
    this.logger.info('stopped');
  }
}
