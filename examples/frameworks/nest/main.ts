// The Nest application: sessionkit/express mounted on Nest's Express platform before the routes.
import 'reflect-metadata';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Backend } from 'sessionkit';
import { sessionMiddleware } from 'sessionkit/express';
import { CounterController } from './counter.controller.js';

@Module({ controllers: [CounterController] })
export class AppModule {}

/** Mounts the sessions on an application (`NestFactory.create(AppModule)` or a testing module's). */
export function useSessions(app: INestApplication, backend: Backend): INestApplication {
  app.use(sessionMiddleware(backend, { cookieName: 'sid' }));
  return app;
}

/** `const app = await createApp(new PostgresBackend(pool)); await app.listen(3000);` */
export async function createApp(backend: Backend): Promise<INestApplication> {
  return useSessions(await NestFactory.create(AppModule, { logger: false }), backend);
}
