import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { redisConnection } from '../dispatch/redis';
import { QueueReconcilerService } from './queue-reconciler.service';
import { QUEUE_OPTIONS, QueueName } from './queues';
import { ReconcilerRepository } from './reconciler.repository';

@Global()
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        connection: redisConnection(config.REDIS_URL),
        prefix: config.QUEUE_PREFIX,
      }),
    }),
    ...Object.values(QueueName).map((name) =>
      BullModule.registerQueue({ name, defaultJobOptions: QUEUE_OPTIONS[name] }),
    ),
  ],
  providers: [ReconcilerRepository, QueueReconcilerService],
  exports: [BullModule],
})
export class QueuesModule {}
