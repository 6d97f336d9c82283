import { Injectable, NotFoundException } from '@nestjs/common';
import { Requester } from '../auth/guards';
import { VerificationRepository } from './verification.repository';

@Injectable()
export class VerdictsService {
  constructor(private readonly repo: VerificationRepository) {}

  async list(requester: Requester, jobId: string) {
    if (!(await this.repo.jobOwnedBy(jobId, requester.apiKeyId))) {
      throw new NotFoundException('no such job');
    }
    const verdicts = await this.repo.listVerdicts(jobId);
    return verdicts.map((v) => ({
      id: v.id,
      frame: v.frameNumber,
      kind: v.kind,
      outcome: v.outcome,
      results: [v.resultA, v.resultB].filter(Boolean),
      nodes: [v.nodeA, v.nodeB].filter(Boolean),
      evidence: v.evidence,
      createdAt: v.createdAt,
    }));
  }
}
