import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma/prisma.service';

@Injectable()
export class EventsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** The API key that submitted a job (null when there is no such job). */
  async jobOwner(jobId: string): Promise<string | null> {
    const job = await this.prisma.job.findUnique({
      where: { id: jobId },
      select: { apiKeyId: true },
    });
    return job?.apiKeyId ?? null;
  }
}
