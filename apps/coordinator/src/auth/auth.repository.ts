import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma/prisma.service';

@Injectable()
export class AuthRepository {
  constructor(private readonly prisma: PrismaService) {}

  findActiveApiKeyByHash(hash: string) {
    return this.prisma.apiKey.findFirst({
      where: { hash, revokedAt: null },
      select: { id: true, name: true },
    });
  }

  createApiKey(name: string, hash: string, prefix: string) {
    return this.prisma.apiKey.create({ data: { name, hash, prefix }, select: { id: true } });
  }
}
