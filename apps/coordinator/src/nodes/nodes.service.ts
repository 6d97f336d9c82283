import {
  ForbiddenException,
  Inject,
  Injectable,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import {
  ChallengeResponse,
  eip191SignedBy,
  sessionMessage,
  SessionResponse,
} from '@tessera/protocol';
import { getAddress } from 'ethers';
import { randomBytes } from 'node:crypto';
import { signSessionToken } from '../auth/session-token';
import { Chain, CHAIN } from '../chain/chain';
import { APP_CONFIG, AppConfig } from '../config/config';
import { SessionDto } from './dto/node-auth.dto';
import { NodesRepository } from './nodes.repository';

const CHALLENGE_TTL_MS = 5 * 60_000;

/** Nodes prove they hold the key of their Ethereum address: challenge, EIP-191 signature, token. */
@Injectable()
export class NodesService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CHAIN) private readonly chain: Chain | null,
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
    let signed: boolean;
    try {
      signed = eip191SignedBy(address, sessionMessage(address, body.nonce), body.signature);
    } catch {
      throw new UnauthorizedException('malformed signature');
    }
    if (!signed) throw new UnauthorizedException('signature does not match the address');
    // Consumed only after the signature checks out, atomically: a replay finds it used.
    if (!(await this.repo.consumeChallenge(body.nonce, address))) {
      throw new UnauthorizedException('challenge unknown, expired or already used');
    }
    await this.requireStake(address);
    const node = await this.repo.upsertNode(
      address,
      body.name,
      body.capabilities,
      body.askPriceWei,
    );
    const exp = Date.now() + this.config.SESSION_TTL_MS;
    return {
      token: signSessionToken({ nodeId: node.id, address, exp }, this.config.SECRET),
      nodeId: node.id,
      address,
      expiresAt: new Date(exp).toISOString(),
    };
  }

  /** With MIN_STAKE_WEI set, only operators with that much at stake in the escrow get work. */
  private async requireStake(address: string): Promise<void> {
    const min = this.config.MIN_STAKE_WEI;
    if (min === 0n || !this.chain) return;
    let stake: bigint;
    try {
      stake = await this.chain.escrow.stakeOf(address);
    } catch (e) {
      throw new ServiceUnavailableException(
        `cannot read stakes from the chain: ${(e as Error).message}`,
      );
    }
    if (stake < min) {
      throw new ForbiddenException(
        `stake at least ${min} wei in the escrow ${this.chain.escrow.address} to render here ` +
          `(${address} has ${stake} wei staked)`,
      );
    }
  }
}
