import { Module } from '@nestjs/common';
import { VerificationModule } from './verification.module';
import { VerificationProcessor } from './verification.processor';

@Module({ imports: [VerificationModule], providers: [VerificationProcessor] })
export class VerificationWorkerModule {}
