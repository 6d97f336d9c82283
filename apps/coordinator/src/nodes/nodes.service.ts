import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { ChallengeResponse, sessionMessage, SessionResponse } from '@tessera/protocol';
import { getAddress, verifyMessage } from 'ethers';
import { randomBytes } from 'node:crypto';
import { signSessionToken } from '../auth/session-token';
import { APP_CONFIG, AppConfig } from '../config/config';
import { SessionDto } from './dto/node-auth.dto';
import { NodesRepository } from './nodes.repository';

const CHALLENGE_TTL_MS = 5 * 60_000;

/** Nodes prove they hold the key of their Ethereum address: challenge, EIP-191 signature, token. */
@Injectable()
export class NodesService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repo: NodesRepository,
  ) {}

  async challenge(address: string): Promise<ChallengeResponse> {
    const checksummed = getAddress(address.toLowerCase());
    const nonce = randomBytes(32).toString('hex');
    const expiresAt = new Date(Date.now() + CHALLENGE_TTL_MS);
    await this.repo.createChallenge(nonce, checksummed, expiresAt);
    // Old challenges are worthless; trimming them here keeps the table small without a cron.
    void this.repo.deleteExpiredChallenges(new Date(Date.now() - CHALLENGE_TTL_MS)).catch(() => {});
    return {
      nonce,
      message: sessionMessage(checksummed, nonce),
      expiresAt: expiresAt.toISOString(),
    };
  }

  async session(body: SessionDto): Promise<SessionResponse> {
    const address = getAddress(body.address.toLowerCase());
    let signer: string;
    try {
      signer = verifyMessage(sessionMessage(address, body.nonce), body.signature);
    } catch {
      throw new UnauthorizedException('malformed signature');
    }
    if (signer !== address) throw new UnauthorizedException('signature does not match the address');
    // Consumed only after the signature checks out, atomically: a replay finds it used.
    if (!(await this.repo.consumeChallenge(body.nonce, address))) {
      throw new UnauthorizedException('challenge unknown, expired or already used');
    }
    const node = await this.repo.upsertNode(address, body.name, body.capabilities);
    const exp = Date.now() + this.config.SESSION_TTL_MS;
    return {
      token: signSessionToken({ nodeId: node.id, address, exp }, this.config.SECRET),
      nodeId: node.id,
      address,
      expiresAt: new Date(exp).toISOString(),
    };
  }
}
