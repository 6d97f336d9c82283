import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Post,
  Res,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { IsString, Matches, MaxLength } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { APP_CONFIG, AppConfig } from '../config/config';
import { hashApiKey } from './api-key';
import { AuthRepository } from './auth.repository';
import { sessionCookie, signBrowserSession } from './browser-session';
import { ApiKeyGuard, CurrentRequester, Requester } from './guards';

/** Browser sessions last a working day; the key itself is checked on every request. */
const SESSION_TTL_MS = 12 * 3600_000;

export class CreateSessionDto {
  @IsString()
  @MaxLength(200)
  @Matches(/^tsk_[A-Za-z0-9_-]+$/, { message: 'apiKey must be a Tessera API key (tsk_...)' })
  apiKey!: string;
}

/** The dashboard's sign-in: an API key in, an HttpOnly SameSite cookie out. */
@ApiTags('session')
@Controller('api/v1/session')
export class SessionController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repo: AuthRepository,
  ) {}

  @Post()
  @HttpCode(200)
  async create(@Body() body: CreateSessionDto, @Res({ passthrough: true }) res: FastifyReply) {
    const key = await this.repo.findActiveApiKeyByHash(hashApiKey(body.apiKey));
    if (!key) throw new UnauthorizedException('unknown or revoked API key');
    const exp = Date.now() + SESSION_TTL_MS;
    const token = signBrowserSession({ apiKeyId: key.id, exp }, this.config.SECRET);
    res.header('Set-Cookie', sessionCookie(token, SESSION_TTL_MS, this.secure));
    return { name: key.name, admin: key.admin, expiresAt: new Date(exp).toISOString() };
  }

  @Get()
  @UseGuards(ApiKeyGuard)
  whoami(@CurrentRequester() requester: Requester) {
    return { name: requester.name, admin: requester.admin };
  }

  @Delete()
  @HttpCode(204)
  remove(@Res({ passthrough: true }) res: FastifyReply): void {
    res.header('Set-Cookie', sessionCookie('', 0, this.secure));
  }

  private get secure(): boolean {
    return this.config.PUBLIC_URL.startsWith('https:');
  }
}
