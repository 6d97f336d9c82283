import { Module } from '@nestjs/common';
import { StorageModule } from '../storage/storage.module';
import { DashboardApiController } from './dashboard-api.controller';
import { DashboardPagesController } from './dashboard-pages.controller';
import { DashboardRepository } from './dashboard.repository';
import { DashboardService } from './dashboard.service';

@Module({
  imports: [StorageModule],
  controllers: [DashboardApiController, DashboardPagesController],
  providers: [DashboardRepository, DashboardService],
})
export class DashboardModule {}
