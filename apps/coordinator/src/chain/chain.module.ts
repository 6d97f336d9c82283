import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '../config/config';
import { Chain, CHAIN, connectChain } from './chain';

@Global()
@Module({
  providers: [{ provide: CHAIN, inject: [APP_CONFIG], useFactory: connectChain }],
  exports: [CHAIN],
})
export class ChainModule implements OnApplicationShutdown {
  constructor(@Inject(CHAIN) private readonly chain: Chain | null) {}

  onApplicationShutdown(): void {
    this.chain?.provider.destroy();
  }
}
