import type { Server } from 'node:http';
import { INestApplication, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { AppConfig } from './config/config';

/** Builds the coordinator app (used by main.ts, the demo and the e2e tests). */
export async function createApp(config: AppConfig): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    logger: config.NODE_ENV === 'test' ? ['error', 'warn'] : ['log', 'error', 'warn'],
    // At shutdown the database is disconnected before the HTTP server closes, so a request still
    // open by then cannot finish: its connection is cut (clients retry) rather than holding the
    // process until it is killed (seen: an event stream or read open as a replica stopped).
    forceCloseConnections: true,
  });
  app.useGlobalPipes(
    new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }),
  );
  app.enableShutdownHooks();
  // Agents reuse connections between calls; Node's 5 s default closes idle sockets just as a busy
  // client sends its next request on one ("other side closed"). Outlast the clients' idle timeout.
  const server = app.getHttpServer() as Server;
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const docs = new DocumentBuilder()
    .setTitle('Tessera coordinator')
    .setDescription('Submit Blender jobs; render nodes lease and complete shards.')
    .setVersion('1')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, docs));
  return app;
}
