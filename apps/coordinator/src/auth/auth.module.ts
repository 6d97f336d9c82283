import { Global, Module } from '@nestjs/common';
import { AuthRepository } from './auth.repository';
import { AdminGuard, ApiKeyGuard, NodeSessionGuard } from './guards';
import { SessionController } from './session.controller';

@Global()
@Module({
  controllers: [SessionController],
  providers: [AuthRepository, ApiKeyGuard, AdminGuard, NodeSessionGuard],
  exports: [AuthRepository, ApiKeyGuard, AdminGuard, NodeSessionGuard],
})
export class AuthModule {}
