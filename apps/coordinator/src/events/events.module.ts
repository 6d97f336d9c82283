import { Global, Module } from '@nestjs/common';
import { EventVisibilityService } from './event-visibility.service';
import { EventsController } from './events.controller';
import { EventsRepository } from './events.repository';
import { EventsService } from './events.service';

/** Global: any module publishes farm events without importing this one. */
@Global()
@Module({
  controllers: [EventsController],
  providers: [EventsService, EventsRepository, EventVisibilityService],
  exports: [EventsService],
})
export class EventsModule {}
