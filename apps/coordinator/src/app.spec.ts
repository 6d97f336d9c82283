import { Body, Controller, Module, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IsOptional, IsString } from 'class-validator';
import request from 'supertest';
import { configureApp, HTTP_OPTIONS, httpAdapter } from './app';

class EchoDto {
  @IsOptional()
  @IsString()
  reason?: string;
}

@Controller('echo')
class EchoController {
  @Post()
  echo(@Body() body: EchoDto) {
    return { body };
  }
}

@Module({ controllers: [EchoController] })
class EchoModule {}

describe('the HTTP set-up (httpAdapter, HTTP_OPTIONS, configureApp)', () => {
  let app: INestApplication;
  // A real socket, as clients reach the coordinator (not Fastify's inject).
  const post = (payload?: string) => {
    const req = request(app.getHttpServer()).post('/echo').set('Content-Type', 'application/json');
    return payload === undefined ? req : req.send(payload);
  };

  beforeAll(async () => {
    app = await NestFactory.create(EchoModule, httpAdapter(), { ...HTTP_OPTIONS, logger: false });
    configureApp(app);
    await app.listen(0, '127.0.0.1');
  });

  afterAll(() => app?.close());

  it('parses JSON and validates it at the edge', async () => {
    const ok = await post(JSON.stringify({ reason: 'out of memory' }));
    expect(ok.status).toBe(201);
    expect(ok.body).toEqual({ body: { reason: 'out of memory' } });
    const unknown = await post(JSON.stringify({ reason: 'x', extra: 1 }));
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toEqual(['property extra should not exist']);
  });

  // The pipe then validates an empty DTO, as for a POST without a Content-Type.
  it('takes a bodiless POST that says application/json as no body, as clients send it', async () => {
    const res = await post(undefined);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ body: {} });
  });

  it('refuses malformed JSON with a 400', async () => {
    const res = await post('{"reason": ');
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/not valid JSON/);
  });
});
