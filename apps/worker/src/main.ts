import { loadConfigOrExit } from '@flotilla/config';
import { hostname } from 'node:os';
import pino from 'pino';
import { WorkerConfig } from './config/worker-config';
import { WorkerHost } from './worker-host';

async function main(): Promise<void> {
  const config = loadConfigOrExit('flotilla-worker', () => WorkerConfig.fromEnv(process.env));
  const workerId = config.values.WORKER_ID ?? `${hostname()}-${process.pid}`;
  const logger = pino({ level: config.values.LOG_LEVEL, base: { service: 'flotilla-worker', worker: workerId } });
  const host = new WorkerHost(config, logger);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal} received: shutting down`);
    setTimeout(() => {
      logger.error(`drain took over ${config.values.SHUTDOWN_TIMEOUT_MS} ms, exiting`);
      process.exit(1);
    }, config.values.SHUTDOWN_TIMEOUT_MS).unref();
    host.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: String(error) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // Handlers go in before connecting, so a signal during start-up still drains cleanly.
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await host.start();
}

void main().catch((error: unknown) => {
  process.stderr.write(`flotilla-worker: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
