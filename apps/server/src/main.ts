import { loadConfigOrExit } from '@flotilla/config';
import { Logger } from 'nestjs-pino';
import { createServerApp, shutdownServerApp } from './bootstrap';
import { ServerConfig } from './config/server-config';

async function main(): Promise<void> {
  const config = loadConfigOrExit('flotilla-server', () => ServerConfig.fromEnv(process.env));

  const app = await createServerApp(config);
  const logger = app.get(Logger);
  await app.listen(config.values.PORT, config.values.HOST);
  logger.log(`flotilla-server listening on http://${config.values.HOST}:${config.values.PORT}`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: shutting down`);
    const deadline = setTimeout(() => {
      process.stderr.write(`flotilla-server: shutdown took over ${config.values.SHUTDOWN_TIMEOUT_MS} ms, exiting\n`);
      process.exit(1);
    }, config.values.SHUTDOWN_TIMEOUT_MS);
    deadline.unref();
    shutdownServerApp(app).then(
      () => {
        logger.log('shutdown complete');
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`flotilla-server: shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main().catch((error: unknown) => {
  process.stderr.write(`flotilla-server: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
