import { Module } from '@nestjs/common';
import { StorageModule } from '../storage/storage.module';
import { VerificationModule } from '../verification/verification.module';
import { AssemblyProcessor } from './assembly.processor';
import { AssemblyRepository } from './assembly.repository';

@Module({
  imports: [StorageModule, VerificationModule],
  providers: [AssemblyRepository, AssemblyProcessor],
})
export class AssemblyModule {}
