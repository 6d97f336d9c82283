import { Module } from '@nestjs/common';
import { PayoutsController } from './payouts.controller';
import { PayoutsRepository } from './payouts.repository';
import { PayoutsService } from './payouts.service';

/** The payouts API (quotes, funding, ledgers); works with or without a chain. */
@Module({
  controllers: [PayoutsController],
  providers: [PayoutsRepository, PayoutsService],
  exports: [PayoutsRepository],
})
export class PayoutsModule {}
