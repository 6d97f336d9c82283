import { Injectable } from '@nestjs/common';
import type { Requester } from '../auth/guards';
import { EventsRepository } from './events.repository';
import type { FarmEvent } from './farm-event';

const OWNER_CACHE_LIMIT = 10_000;

/** Who may see which event: admins see the farm, requesters the events of their own jobs. */
@Injectable()
export class EventVisibilityService {
  // A job's owner never changes, so it is looked up once per replica.
  private readonly owners = new Map<string, string | null>();

  constructor(private readonly repo: EventsRepository) {}

  async canSee(requester: Requester, event: FarmEvent, onlyJob?: string): Promise<boolean> {
    const jobId = 'jobId' in event ? event.jobId : undefined;
    if (onlyJob && jobId !== onlyJob) return false;
    if (requester.admin) return true;
    if (!jobId) return false;
    return (await this.ownerOf(jobId)) === requester.apiKeyId;
  }

  async ownerOf(jobId: string): Promise<string | null> {
    if (this.owners.has(jobId)) return this.owners.get(jobId)!;
    const owner = await this.repo.jobOwner(jobId);
    if (this.owners.size >= OWNER_CACHE_LIMIT) this.owners.clear();
    if (owner) this.owners.set(jobId, owner);
    return owner;
  }
}
