import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { StorageModule } from '../storage/storage.module';
import { JobFactsRepository } from './job-facts.repository';
import { LeaseSweeperService } from './lease-sweeper.service';
import { LeasesController } from './leases.controller';
import { LeasesRepository } from './leases.repository';
import { LeasesService } from './leases.service';

@Module({
  imports: [StorageModule, JobsModule],
  controllers: [LeasesController],
  providers: [LeasesRepository, LeasesService, JobFactsRepository, LeaseSweeperService],
})
export class LeasesModule {}
