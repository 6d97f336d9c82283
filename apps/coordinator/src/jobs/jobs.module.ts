import { Module } from '@nestjs/common';
import { MultipartModule } from '@nestjs/platform-fastify/multipart';
import { tmpdir } from 'node:os';
import { APP_CONFIG, AppConfig } from '../config/config';
import { StorageModule } from '../storage/storage.module';
import { JobsController } from './jobs.controller';
import { JobsRepository } from './jobs.repository';
import { JobsService } from './jobs.service';

@Module({
  imports: [
    StorageModule,
    // Scenes go to a temp file (never memory), capped by size; the service deletes them after.
    MultipartModule.registerAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        dest: tmpdir(),
        limits: { fileSize: config.MAX_SCENE_BYTES, files: 1, fields: 32 },
      }),
    }),
  ],
  controllers: [JobsController],
  providers: [JobsRepository, JobsService],
  exports: [JobsRepository, JobsService],
})
export class JobsModule {}
