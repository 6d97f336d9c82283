import { Global, Module } from '@nestjs/common';
import { WorkSignalService } from './work-signal.service';

@Global()
@Module({ providers: [WorkSignalService], exports: [WorkSignalService] })
export class DispatchModule {}
