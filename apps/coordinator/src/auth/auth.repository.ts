import { Injectable } from '@nestjs/common';
import { PrismaService } from '../prisma/prisma.service';

@Injectable()
export class AuthRepository {
  constructor(private readonly prisma: PrismaService) {}

  findActiveApiKeyByHash(hash: string) {
    return this.prisma.apiKey.findFirst({
      where: { hash, revokedAt: null },
      select: { id: true, name: true, admin: true },
    });
  }

  findActiveApiKeyById(id: string) {
    return this.prisma.apiKey.findFirst({
      where: { id, revokedAt: null },
      select: { id: true, name: true, admin: true },
    });
  }

  createApiKey(name: string, hash: string, prefix: string, admin = false) {
    return this.prisma.apiKey.create({
      data: { name, hash, prefix, admin },
      select: { id: true },
    });
  }
}
