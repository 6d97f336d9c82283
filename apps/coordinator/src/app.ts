import { INestApplication, NestApplicationOptions, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { AppConfig } from './config/config';

/** JSON bodies of the API are small; scenes (multipart) and tiles (PUT) have limits of their own. */
const JSON_BODY_LIMIT = 1024 * 1024;

/**
 * The coordinator's HTTP server: Fastify, not Express. A lease cycle is three requests (lease,
 * upload, complete), and measured here Nest on Express spent 300-480 us of CPU on each before
 * the handler's own work, Nest on Fastify 75-100 (bench/RESULTS.md has the farm's numbers).
 */
export function httpAdapter(): FastifyAdapter {
  const adapter = new FastifyAdapter({
    bodyLimit: JSON_BODY_LIMIT,
    // Agents reuse connections between calls; Node's 5 s default closes idle sockets just as a
    // busy client sends its next request on one ("other side closed"). Outlast their idle timeout.
    keepAliveTimeout: 65_000,
  });
  const fastify = adapter.getInstance();
  const json = fastify.getDefaultJsonParser('error', 'error');
  // A bodiless POST that still says application/json (fetch and curl scripts do) has no body,
  // as Express took it, instead of Fastify's 400.
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) =>
    body === '' ? done(null, undefined) : json(req, body as string, done),
  );
  // Every other type but multipart reaches the handler unread: blob uploads (BlobUrlService)
  // stream their body to storage under their own size limit.
  fastify.addContentTypeParser('*', (_req, _payload, done) => done(null));
  return adapter;
}

/** Nest's options for the app with httpAdapter() (the app itself and unit tests). */
export const HTTP_OPTIONS = {
  // At shutdown the database is disconnected before the HTTP server closes, so a request still
  // open by then cannot finish: its connection is cut (clients retry) rather than holding the
  // process until it is killed (seen: an event stream open as a replica stopped).
  forceCloseConnections: true,
  // JSON is parsed as httpAdapter() says; the API takes no forms.
  bodyParser: false,
} satisfies NestApplicationOptions;

/** What every app with the coordinator's controllers sets up (the app itself and unit tests). */
export function configureApp(app: INestApplication): void {
  app.useGlobalPipes(
    new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }),
  );
}

/** Builds the coordinator app (used by main.ts, the demo and the e2e tests). */
export async function createApp(config: AppConfig): Promise<INestApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config),
    httpAdapter(),
    {
      ...HTTP_OPTIONS,
      logger: config.NODE_ENV === 'test' ? ['error', 'warn'] : ['log', 'error', 'warn'],
    },
  );
  configureApp(app);
  app.enableShutdownHooks();
  app.getHttpServer().headersTimeout = 66_000;
  const docs = new DocumentBuilder()
    .setTitle('Tessera coordinator')
    .setDescription('Submit Blender jobs; render nodes lease and complete shards.')
    .setVersion('1')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, docs));
  return app;
}
