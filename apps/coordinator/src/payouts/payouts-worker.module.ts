import { Module } from '@nestjs/common';
import { ChainTxService } from './chain-tx.service';
import { FundingService } from './funding.service';
import { PayoutsWatcherService } from './payouts-watcher.service';
import { PayoutsModule } from './payouts.module';
import { PayoutsProcessor } from './payouts.processor';
import { SettlementService } from './settlement.service';

/** Deposit watching and settlement: on replicas with workers, when a chain is configured. */
@Module({
  imports: [PayoutsModule],
  providers: [
    FundingService,
    SettlementService,
    ChainTxService,
    PayoutsProcessor,
    PayoutsWatcherService,
  ],
})
export class PayoutsWorkerModule {}
