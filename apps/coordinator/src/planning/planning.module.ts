import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { StorageModule } from '../storage/storage.module';
import { PlanningProcessor } from './planning.processor';

@Module({ imports: [JobsModule, StorageModule], providers: [PlanningProcessor] })
export class PlanningModule {}
