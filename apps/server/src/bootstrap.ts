import 'reflect-metadata';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { ServerConfig } from './config/server-config';
import { ReadinessService } from './health/readiness.service';

/** Builds the server application (not yet listening); shared by main.ts and the tests. */
export async function createServerApp(config: ServerConfig): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), { bufferLogs: true });
  app.disable('x-powered-by');
  app.useLogger(app.get(Logger));
  return app;
}

/**
 * Stops accepting work, then closes modules (HTTP server, Postgres, Redis) in order. Readiness
 * turns false first so a load balancer stops routing here before connections close.
 */
export async function shutdownServerApp(app: INestApplication): Promise<void> {
  app.get(ReadinessService).markShuttingDown();
  await app.close();
}
