import { Global, Module } from '@nestjs/common';
import { AuthRepository } from './auth.repository';
import { ApiKeyGuard, NodeSessionGuard } from './guards';

@Global()
@Module({
  providers: [AuthRepository, ApiKeyGuard, NodeSessionGuard],
  exports: [AuthRepository, ApiKeyGuard, NodeSessionGuard],
})
export class AuthModule {}
