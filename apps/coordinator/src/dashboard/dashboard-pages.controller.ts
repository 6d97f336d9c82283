import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The browser code, compiled by `npm run build` from apps/coordinator/web into
 * dist/apps/coordinator/web (beside this file's compiled output), with its page shell and styles.
 * Everything is served from here: the dashboard needs no CDN and no internet access.
 */
const WEB_DIR = join(__dirname, '..', '..', 'web');
const ASSET = /^[a-z][a-z0-9-]*\.(js|css|js\.map)$/;
const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json',
};

@ApiExcludeController()
@Controller('dashboard')
export class DashboardPagesController {
  // Every page is the same shell; the browser code renders the page the path names.
  @Get()
  jobs(@Res() res: FastifyReply) {
    this.shell(res);
  }

  @Get('jobs/:id')
  job(@Res() res: FastifyReply) {
    this.shell(res);
  }

  @Get('nodes')
  nodes(@Res() res: FastifyReply) {
    this.shell(res);
  }

  @Get('payouts')
  payouts(@Res() res: FastifyReply) {
    this.shell(res);
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() res: FastifyReply) {
    if (!ASSET.test(file) || !existsSync(join(WEB_DIR, file))) {
      throw new NotFoundException('no such asset');
    }
    this.send(res, join(WEB_DIR, file), TYPES[file.split('.').pop()!]);
  }

  private shell(res: FastifyReply) {
    const file = join(WEB_DIR, 'index.html');
    if (!existsSync(file)) {
      throw new NotFoundException('dashboard not built: run `npm run build`');
    }
    this.send(res, file, 'text/html; charset=utf-8');
  }

  private send(res: FastifyReply, file: string, type: string) {
    void res.type(type).header('Cache-Control', 'no-cache').send(createReadStream(file));
  }
}
