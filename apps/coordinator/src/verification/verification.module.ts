import { Module } from '@nestjs/common';
import { StorageModule } from '../storage/storage.module';
import { VerdictsController } from './verdicts.controller';
import { VerdictsService } from './verdicts.service';
import { VerificationRepository } from './verification.repository';
import { VerificationService } from './verification.service';

/** Verdicts are served by every replica; checks run where queue workers run. */
@Module({
  imports: [StorageModule],
  controllers: [VerdictsController],
  providers: [VerificationRepository, VerdictsService, VerificationService],
  exports: [VerificationRepository, VerificationService],
})
export class VerificationModule {}
