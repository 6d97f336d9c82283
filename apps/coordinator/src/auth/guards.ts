import {
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Request } from 'express';
import { APP_CONFIG, AppConfig } from '../config/config';
import { apiKeyFromHeaders, hashApiKey } from './api-key';
import { AuthRepository } from './auth.repository';
import { NodeClaims, verifySessionToken } from './session-token';

export interface Requester {
  apiKeyId: string;
  name: string;
}

type AuthedRequest = Request & { requester?: Requester; node?: NodeClaims };

@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly repo: AuthRepository) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const secret = apiKeyFromHeaders(req.headers);
    if (!secret)
      throw new UnauthorizedException('API key required (Authorization: Bearer tsk_...)');
    const key = await this.repo.findActiveApiKeyByHash(hashApiKey(secret));
    if (!key) throw new UnauthorizedException('unknown or revoked API key');
    req.requester = { apiKeyId: key.id, name: key.name };
    return true;
  }
}

@Injectable()
export class NodeSessionGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const auth = req.headers['authorization'];
    const token = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : '';
    const claims = verifySessionToken(token, this.config.SECRET);
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
