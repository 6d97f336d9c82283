import { Injectable } from '@nestjs/common';
import { Prisma, PrismaService } from '../prisma/prisma.service';
import { nodeFactColumns } from './node-facts';

@Injectable()
export class NodesRepository {
  constructor(private readonly prisma: PrismaService) {}

  createChallenge(nonce: string, address: string, expiresAt: Date) {
    return this.prisma.nodeChallenge.create({ data: { nonce, address, expiresAt } });
  }

  /** Marks a challenge used; false when unknown, expired, for another address or used before. */
  async consumeChallenge(nonce: string, address: string): Promise<boolean> {
    const { count } = await this.prisma.nodeChallenge.updateMany({
      where: { nonce, address, usedAt: null, expiresAt: { gt: new Date() } },
      data: { usedAt: new Date() },
    });
    return count === 1;
  }

  upsertNode(
    address: string,
    name: string | undefined,
    capabilities: Record<string, unknown> | undefined,
    askPriceWei: string | undefined,
  ) {
    const caps = capabilities as Prisma.InputJsonValue | undefined;
    const facts = nodeFactColumns(capabilities);
    // a node that names no price takes any job's price
    const ask = askPriceWei ?? null;
    // A login without capabilities (`render-node earnings`, `withdraw`: account work, not
    // rendering) keeps what the node's agent registered, or the agent would stop matching jobs.
    const rendering = capabilities ? { capabilities: caps, ...facts } : {};
    return this.prisma.node.upsert({
      where: { address },
      create: { address, name, capabilities: caps, ...facts, askPriceWei: ask },
      update: { name, ...rendering, askPriceWei: ask, lastSeenAt: new Date() },
      select: { id: true, address: true },
    });
  }

  deleteExpiredChallenges(before: Date) {
    return this.prisma.nodeChallenge.deleteMany({ where: { expiresAt: { lt: before } } });
  }
}
