import { DynamicModule, Module } from '@nestjs/common';
import { AssemblyModule } from './assembly/assembly.module';
import { AuthModule } from './auth/auth.module';
import { ChainModule } from './chain/chain.module';
import { AppConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { DispatchModule } from './dispatch/dispatch.module';
import { EventsModule } from './events/events.module';
import { HealthController } from './health.controller';
import { JobsModule } from './jobs/jobs.module';
import { LeasesModule } from './leases/leases.module';
import { NodesModule } from './nodes/nodes.module';
import { PayoutsWorkerModule } from './payouts/payouts-worker.module';
import { PayoutsModule } from './payouts/payouts.module';
import { PlanningModule } from './planning/planning.module';
import { PrismaModule } from './prisma/prisma.module';
import { QueuesModule } from './queues/queues.module';
import { StorageModule } from './storage/storage.module';
import { VerificationWorkerModule } from './verification/verification-worker.module';
import { VerificationModule } from './verification/verification.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    // Queue workers (planning, assembly) can be turned off on API-only replicas.
    const workers = config.WORKERS
      ? [PlanningModule, VerificationWorkerModule, AssemblyModule]
      : [];
    // Settlement needs a chain; without one, jobs are free and dispatched at once.
    if (config.WORKERS && config.CHAIN_RPC_URL) workers.push(PayoutsWorkerModule);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        PrismaModule,
        QueuesModule,
        DispatchModule,
        EventsModule,
        AuthModule,
        StorageModule,
        JobsModule,
        NodesModule,
        LeasesModule,
        VerificationModule,
        ChainModule,
        PayoutsModule,
        DashboardModule,
        ...workers,
      ],
      controllers: [HealthController],
    };
  }
}
