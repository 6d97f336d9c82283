import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../../../generated/prisma/client';
import { APP_CONFIG, AppConfig } from '../config/config';
import { statementNamer } from './statement-names';

export { Prisma } from '../../../../generated/prisma/client';
export type * from '../../../../generated/prisma/client';

/** The one Prisma client of a coordinator process; repositories are its only users. */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super({
      adapter: new PrismaPg(
        { connectionString: config.DATABASE_URL, max: 20 },
        { statementNameGenerator: statementNamer() },
      ),
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
