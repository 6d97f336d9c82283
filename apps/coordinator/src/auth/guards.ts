import {
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '../config/config';
import { apiKeyFromHeaders, hashApiKey } from './api-key';
import { AuthRepository } from './auth.repository';
import { cookieValue, SESSION_COOKIE, verifyBrowserSession } from './browser-session';
import { NodeClaims, VerifiedNodeSessions } from './session-token';

export interface Requester {
  apiKeyId: string;
  name: string;
  /** admin keys see the whole farm on the dashboard */
  admin: boolean;
}

type AuthedRequest = FastifyRequest & { requester?: Requester; node?: NodeClaims };

/** An API key in a header, or the dashboard's session cookie (see browser-session.ts). */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly repo: AuthRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const secret = apiKeyFromHeaders(req.headers);
    if (secret) {
      const key = await this.repo.findActiveApiKeyByHash(hashApiKey(secret));
      if (!key) throw new UnauthorizedException('unknown or revoked API key');
      req.requester = { apiKeyId: key.id, name: key.name, admin: key.admin };
      return true;
    }
    const cookie = cookieValue(req.headers.cookie, SESSION_COOKIE);
    const claims = cookie && verifyBrowserSession(cookie, this.config.SECRET);
    if (!claims) {
      throw new UnauthorizedException('API key required (Authorization: Bearer tsk_...)');
    }
    const key = await this.repo.findActiveApiKeyById(claims.apiKeyId);
    if (!key) throw new UnauthorizedException('session of an unknown or revoked API key');
    req.requester = { apiKeyId: key.id, name: key.name, admin: key.admin };
    return true;
  }
}

/** After ApiKeyGuard: only admin keys pass. */
@Injectable()
export class AdminGuard implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    if (!req.requester?.admin) throw new ForbiddenException('an admin API key is required');
    return true;
  }
}

@Injectable()
export class NodeSessionGuard implements CanActivate {
  private readonly sessions: VerifiedNodeSessions;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.sessions = new VerifiedNodeSessions(config.SECRET);
  }

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const auth = req.headers['authorization'];
    const token = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : '';
    const claims = this.sessions.verify(token);
    if (!claims) throw new UnauthorizedException('node session token missing, invalid or expired');
    req.node = claims;
    return true;
  }
}

export const CurrentRequester = createParamDecorator(
  (_: unknown, ctx: ExecutionContext) => ctx.switchToHttp().getRequest<AuthedRequest>().requester!,
);

export const CurrentNode = createParamDecorator(
  (_: unknown, ctx: ExecutionContext) => ctx.switchToHttp().getRequest<AuthedRequest>().node!,
);
