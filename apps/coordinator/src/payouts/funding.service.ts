import { Inject, Injectable, Logger } from '@nestjs/common';
import { jobIdToBytes32 } from '@tessera/escrow';
import { Chain, CHAIN } from '../chain/chain';
import { WorkSignalService } from '../dispatch/work-signal.service';
import { PayoutsRepository } from './payouts.repository';

/**
 * Watches the escrow for the deposits of planned jobs. A job is dispatched only once its deposit
 * is CHAIN_CONFIRMATIONS blocks deep; until then its payment note says what is missing.
 */
@Injectable()
export class FundingService {
  private readonly logger = new Logger(FundingService.name);

  constructor(
    @Inject(CHAIN) private readonly chain: Chain,
    private readonly repo: PayoutsRepository,
    private readonly signal: WorkSignalService,
  ) {}

  async check(): Promise<number> {
    const jobs = await this.repo.awaitingFunds();
    if (jobs.length === 0) return 0;
    const head = await this.chain.provider.getBlockNumber();
    const blockTag = Math.max(0, head - (this.chain.confirmations - 1));
    let funded = 0;
    for (const job of jobs) {
      const jobKey = jobIdToBytes32(job.id);
      const [requester, budget, , , closed] = (await this.chain.escrow.contract.jobs(jobKey, {
        blockTag,
      })) as [string, bigint, bigint, bigint, boolean];
      if (!closed && budget >= job.depositWei) {
        if (await this.repo.markFunded(job.id, budget, requester)) {
          funded++;
          this.logger.log(`job ${job.id} funded with ${budget} wei by ${requester}`);
        }
      } else {
        const note = closed
          ? `the escrow closed job ${jobKey} before it was funded`
          : `waiting for a deposit of ${job.depositWei} wei: the escrow holds ${budget} wei ` +
            `for ${jobKey} (call fund(${jobKey}) on ${this.chain.escrow.address})`;
        await this.repo.noteFunding(job.id, budget, note);
      }
    }
    if (funded > 0) this.signal.notify();
    return funded;
  }
}
