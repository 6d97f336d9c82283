import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { PixelRegion } from '@tessera/protocol';
import {
  chooseMode,
  compareRenders,
  ComparisonResult,
  cryptoRng,
  decodePng,
  frameRegionOfTile,
  intersectRegions,
  newReputation,
  planCropCheck,
  policyFor,
  PolicyStrength,
  RenderProvenance,
  ReputationEvent,
  ReputationState,
  reputationScore,
  RgbaImage,
  samplingReputation,
  shouldCheckTile,
  shouldIssueRinger,
  updateReputation,
} from '@tessera/verification';
import { Queue } from 'bullmq';
import { WorkSignalService } from '../dispatch/work-signal.service';
import { EventsService } from '../events/events.service';
import { marginsOf, regionOf } from '../planning/tile-geometry';
import { AssemblyPayload, assemblyJobId, QueueName } from '../queues/queues';
import { BlobChangedError, CheckedBlobs } from '../storage/checked-blobs';
import {
  FrameState,
  NewVerdict,
  RenderedTile,
  ResultFacts,
  VerificationRepository,
} from './verification.repository';

type Strength = PolicyStrength | 'off';

interface ResultRef {
  id: string;
  nodeId: string;
  storageKey: string;
  /** as accepted: every read checks it */
  sha256: string;
}

/**
 * Decides and evaluates every check before a tile counts: overlap strips between neighbours by
 * different nodes, secret crop re-renders, ringers and arbitration. A frame is assembled only when
 * all its tiles are verified; the loser of an arbitration loses all its work on the job.
 */
@Injectable()
export class VerificationService {
  private readonly logger = new Logger(VerificationService.name);
  private readonly rng = cryptoRng();

  constructor(
    private readonly tiles: CheckedBlobs,
    @InjectQueue(QueueName.Assembly) private readonly assembly: Queue<AssemblyPayload>,
    private readonly repo: VerificationRepository,
    private readonly signal: WorkSignalService,
    private readonly events: EventsService,
  ) {}

  /** What onResult needs of each completed shard, read for a batch of them at once. */
  resultFacts(shardIds: string[]): Promise<Map<string, ResultFacts>> {
    return this.repo.resultFacts(shardIds);
  }

  /** What verifyFrame needs first of each frame, read for a batch of them at once. */
  frameStates(frameIds: string[]): Promise<Map<string, FrameState>> {
    return this.repo.frameStates(frameIds);
  }

  /**
   * A lease was completed: sample secret checks for a work tile, or evaluate a check. Returns
   * the frame to verify again, if any. `facts`: the shard's, from resultFacts().
   */
  async onResult(shardId: string, facts: ResultFacts | undefined): Promise<string | null> {
    if (!facts?.resultId || !facts.nodeId || facts.status !== 'DONE') return null;
    const result = { id: facts.resultId, nodeId: facts.nodeId };
    // A lease that was in flight when its node was convicted: the result is not taken.
    if (facts.blocked) {
      await this.redo(facts.jobId, [result.id], 'result dropped');
      return facts.frameId;
    }
    if (facts.kind === 'CHECK') {
      try {
        await this.evaluateCheck(shardId);
      } catch (e) {
        if (!(e instanceof BlobChangedError)) throw e;
        // A render it compares changed after acceptance and was dropped (load). The check's own
        // is issued again; a checked one is rendered again and sampled afresh, so this check
        // has nothing left to decide (as when the checked work was thrown away).
        const check = await this.repo.findShard(shardId);
        if (check?.result) await this.repo.markVerified([check.id]);
      }
      // A job waits for its checks: this may have been the last thing open.
      if (await this.repo.completeIfFinished(facts.jobId)) {
        this.events.publish({ type: 'job.finished', jobId: facts.jobId, status: 'COMPLETED' });
      }
      return facts.frameId;
    }
    const strength = facts.verification as Strength;
    if (strength !== 'off') {
      const policy = policyFor(strength);
      const current = reputationScore((facts.trust as ReputationState | null) ?? newReputation());
      // Sampled at the node's score when the job first saw its work, or lower: checks it passes
      // during the job do not make the rest of the job cheaper to fake.
      const first =
        facts.firstScore ?? (await this.repo.recordFirstScore(facts.jobId, result.nodeId, current));
      const score = samplingReputation(first, current);
      if (shouldCheckTile(score, this.rng, policy)) {
        const shard = await this.repo.findShard(shardId);
        if (shard?.result) {
          const plan = planCropCheck(regionOf(shard), marginsOf(shard), this.rng, policy);
          for (const crop of plan.crops) {
            await this.issueCheck(shard, crop, 'CROP', shard.result, undefined);
          }
        }
      }
      if (shouldIssueRinger(score, this.rng, policy)) {
        // Known-answer work: a verified tile by someone else, issued again like any lease.
        const known = await this.repo.verifiedTileNotBy(facts.jobId, result.nodeId);
        if (known?.result) {
          await this.issueCheck(known, regionOf(known), 'RINGER', known.result, undefined, [
            known.result.nodeId,
          ]);
        }
      }
    }
    return facts.frameId;
  }

  /**
   * Verifies a frame once all its tiles are in: compares every overlap strip between tiles by
   * different nodes; when nothing is pending or disputed, the tiles are verified and assembled.
   */
  async verifyFrame(frameId: string, state: FrameState | undefined): Promise<void> {
    try {
      await this.verifyFrameTiles(frameId, state);
    } catch (e) {
      // A tile changed after acceptance was dropped (load): the frame waits for its new render.
      if (!(e instanceof BlobChangedError)) throw e;
    }
  }

  private async verifyFrameTiles(frameId: string, state: FrameState | undefined): Promise<void> {
    // Runs after every completion; all but the frame's last find a tile still open, so that is
    // asked first (frameStates) rather than loading every tile with its result. Completions
    // queued behind the frame's last (a backlog) find it verified: they only make sure it gets
    // stitched.
    if (!state || state.open || (state.verified && state.assembled)) return;
    if (state.verified) {
      await this.assembly.add('assemble', { frameId }, { jobId: assemblyJobId(frameId) });
      return;
    }
    let tiles = await this.repo.frameTiles(frameId);
    if (tiles.length === 0 || tiles.some((t) => !t.result)) return;
    const { jobId, frameNumber } = state;
    const strength = state.verification as Strength;

    if (strength !== 'off') {
      let disputes = 0;
      const passed = await this.repo.passedPairs(jobId, frameNumber);
      const images = new Map<string, Promise<RgbaImage>>();
      const image = (r: ResultRef) => {
        if (!images.has(r.id)) images.set(r.id, this.load(r, jobId, frameNumber));
        return images.get(r.id)!;
      };
      for (const [a, b] of neighbourPairs(tiles)) {
        const ra = a.result!;
        const rb = b.result!;
        if (ra.nodeId === rb.nodeId || passed.has(`${ra.id}:${rb.id}`)) continue;
        const overlap = intersectRegions(a.region, b.region);
        if (!overlap) continue;
        const comparison = await this.compare(
          ra,
          frameRegionOfTile(await image(ra), a.region, overlap),
          rb,
          frameRegionOfTile(await image(rb), b.region, overlap),
        );
        const ok = comparison.verdict === 'match';
        await this.recordVerdict({
          jobId,
          frameNumber,
          kind: 'OVERLAP',
          outcome: ok ? 'PASS' : 'FAIL',
          resultA: ra.id,
          resultB: rb.id,
          nodeA: ra.nodeId,
          nodeB: rb.nodeId,
          evidence: evidence(overlap, comparison, {
            tiles: [
              [a.tileX, a.tileY],
              [b.tileX, b.tileY],
            ],
          }),
        });
        if (ok) {
          await this.reward(ra.nodeId, { kind: 'overlap-agreed' });
          await this.reward(rb.nodeId, { kind: 'overlap-agreed' });
        } else {
          disputes++;
          const shard = await this.repo.findShard(a.shardId);
          await this.issueCheck(shard!, overlap, 'ARBITRATION', ra, rb.id);
        }
      }
      if (disputes > 0 || (await this.repo.openChecks(frameId)) > 0) return;
      // Everything that could be checked agreed and no check is outstanding. The comparisons
      // took time: the tiles are read again, as a conviction may have dropped a result since.
      tiles = await this.repo.frameTiles(frameId);
      if (tiles.some((t) => !t.result)) return;
    }
    await this.repo.markVerified(tiles.map((t) => t.shardId));
    this.events.publish({
      type: 'tiles.verified',
      jobId,
      frame: frameNumber,
      shardIds: tiles.map((t) => t.shardId),
    });
    await this.assembly.add('assemble', { frameId }, { jobId: assemblyJobId(frameId) });
  }

  /** A check render came back: compare it with what it checks, then settle or escalate. */
  private async evaluateCheck(checkShardId: string): Promise<void> {
    const check = await this.repo.findShard(checkShardId);
    if (!check?.result || check.verifiedAt || !check.checkedResultId) return;
    const checked = await this.repo.findResult(check.checkedResultId);
    const checkRegion = regionOf(check);
    if (!checked || checked.shard.resultId !== checked.id) {
      // The checked work was thrown away meanwhile (its node was convicted, or a dispute about
      // it could not be decided and it is being rendered again): nothing to decide.
      await this.repo.markVerified([check.id]);
      return;
    }
    const mine = await this.load(check.result, check.jobId, check.frameNumber);
    const theirs = frameRegionOfTile(
      await this.load(checked, check.jobId, check.frameNumber),
      regionOf(checked.shard),
      checkRegion,
    );
    const comparison = await this.compare(checked, theirs, check.result, mine);
    const ok = comparison.verdict === 'match';

    if (check.purpose === 'ARBITRATION') {
      await this.arbitrate(check, checked, comparison);
      return;
    }
    await this.recordVerdict({
      jobId: check.jobId,
      frameNumber: check.frameNumber,
      kind: check.purpose === 'RINGER' ? 'RINGER' : 'CROP',
      outcome: ok ? 'PASS' : 'FAIL',
      resultA: checked.id,
      resultB: check.result.id,
      nodeA: checked.nodeId,
      nodeB: check.result.nodeId,
      evidence: evidence(checkRegion, comparison, { tile: [check.tileX, check.tileY] }),
    });
    await this.repo.markVerified([check.id]);
    if (ok) {
      await this.reward(checked.nodeId, { kind: 'check-passed' });
      return;
    }
    // Two renders disagree and either could be lying: a third node decides.
    await this.issueCheck(check, checkRegion, 'ARBITRATION', checked, check.result.id);
  }

  /** The arbiter's render sides with one result; the other node is convicted. */
  private async arbitrate(
    check: NonNullable<Awaited<ReturnType<VerificationRepository['findShard']>>>,
    a: ResultRef,
    arbiterVsA: ComparisonResult,
  ) {
    const b = check.disputedResultId ? await this.repo.findResult(check.disputedResultId) : null;
    const checkRegion = regionOf(check);
    let arbiterVsB: ComparisonResult | null = null;
    if (b) {
      const bPixels = frameRegionOfTile(
        await this.load(b, check.jobId, check.frameNumber),
        regionOf(b.shard),
        checkRegion,
      );
      arbiterVsB = await this.compare(
        b,
        bPixels,
        check.result!,
        await this.load(check.result!, check.jobId, check.frameNumber),
      );
    }
    const aOk = arbiterVsA.verdict === 'match';
    const bOk = arbiterVsB?.verdict === 'match';
    const outcome = aOk !== bOk ? 'PASS' : 'UNRESOLVED';
    await this.recordVerdict({
      jobId: check.jobId,
      frameNumber: check.frameNumber,
      kind: 'ARBITRATION',
      outcome,
      resultA: a.id,
      resultB: b?.id,
      nodeA: a.nodeId,
      nodeB: b?.nodeId,
      evidence: {
        region: checkRegion,
        arbiter: { node: check.result!.nodeId, result: check.result!.id },
        arbiterVsA: summary(arbiterVsA),
        arbiterVsB: arbiterVsB && summary(arbiterVsB),
      },
    });
    await this.repo.markVerified([check.id]);
    if (outcome === 'UNRESOLVED') {
      // Nobody can be blamed: both renders are redone by other nodes.
      await this.redo(check.jobId, [a.id, ...(b ? [b.id] : [])], 'dispute redone');
      return;
    }
    const [winner, loser] = aOk ? [a, b!] : [b!, a];
    await this.reward(winner.nodeId, { kind: 'check-passed' });
    await this.convict(check.jobId, check.frameNumber, loser, 'lost an arbitration', {
      region: checkRegion,
      arbiterNode: check.result!.nodeId,
    });
  }

  /** Fraud: verdict on record, trust gone, blocklisted on the job, all its work there redone. */
  private async convict(
    jobId: string,
    frameNumber: number,
    loser: { id: string; nodeId: string },
    reason: string,
    evidence: Record<string, unknown>,
  ) {
    const { firstConviction, frames } = await this.repo.invalidateNodeOnJob(
      jobId,
      loser.nodeId,
      reason,
    );
    // Several disputes can resolve against the same node at once: one fraud verdict per job.
    if (firstConviction) {
      await this.recordVerdict({
        jobId,
        frameNumber,
        kind: 'FRAUD',
        outcome: 'FAIL',
        resultA: loser.id,
        nodeA: loser.nodeId,
        evidence,
      });
      await this.reward(loser.nodeId, { kind: 'check-failed' });
      this.logger.warn(
        `node ${loser.nodeId} convicted on job ${jobId}; ${frames.length} frame(s) reopened`,
      );
    }
    // The change goes out before waiting agents are woken: a page then hears of it before the
    // redone tiles' new leases, and shows them as re-rendering rather than as first leases.
    this.events.publish({ type: 'job.changed', jobId, reason: 'node convicted' });
    this.signal.notify();
  }

  private async issueCheck(
    tile: { jobId: string; frameId: string; frameNumber: number; tileX: number; tileY: number },
    where: PixelRegion,
    purpose: 'CROP' | 'RINGER' | 'ARBITRATION',
    checked: ResultRef,
    disputedResultId: string | undefined,
    exclude: string[] = [],
  ) {
    const excluded = new Set([checked.nodeId, ...exclude]);
    if (disputedResultId) {
      const disputed = await this.repo.findResult(disputedResultId);
      if (disputed) excluded.add(disputed.nodeId);
    }
    const id = await this.repo.createCheck({
      jobId: tile.jobId,
      frameId: tile.frameId,
      frameNumber: tile.frameNumber,
      tileX: tile.tileX,
      tileY: tile.tileY,
      region: where,
      purpose,
      checkedResultId: checked.id,
      disputedResultId,
      excludeNodeIds: [...excluded],
    });
    if (id) this.signal.notify();
  }

  private async recordVerdict(v: NewVerdict) {
    const saved = await this.repo.recordVerdict(v);
    this.events.publish({
      type: 'verdict',
      jobId: v.jobId,
      frame: v.frameNumber,
      kind: v.kind,
      outcome: v.outcome,
      nodes: [v.nodeA, v.nodeB].filter((n): n is string => !!n),
      results: [v.resultA, v.resultB].filter((r): r is string => !!r),
    });
    return saved;
  }

  private async compare(a: ResultRef, pa: RgbaImage, b: ResultRef, pb: RgbaImage) {
    const nodes = await this.repo.nodeProvenance([a.nodeId, b.nodeId]);
    const provenance = (id: string): RenderProvenance => {
      const caps = (nodes.find((n) => n.id === id)?.capabilities ??
        {}) as Partial<RenderProvenance>;
      return { blenderVersion: caps.blenderVersion ?? '', deviceClass: caps.deviceClass ?? '' };
    };
    return compareRenders(pa, pb, { mode: chooseMode(provenance(a.nodeId), provenance(b.nodeId)) });
  }

  private reward(nodeId: string, event: ReputationEvent) {
    return this.repo.updateTrust<ReputationState>(nodeId, (state) =>
      updateReputation(state ?? newReputation(), { ...event, at: Date.now() }),
    );
  }

  /**
   * A result's pixels, read by its accepted hash. One whose bytes changed since is dropped
   * (dropChanged), and BlobChangedError ends the check that wanted it.
   */
  private async load(r: ResultRef, jobId: string, frameNumber: number): Promise<RgbaImage> {
    try {
      return decodePng(await this.tiles.read(r.storageKey, r.sha256));
    } catch (e) {
      if (e instanceof BlobChangedError) await this.dropChanged(jobId, frameNumber, r, e);
      throw e;
    }
  }

  /**
   * An accepted result whose stored bytes no longer hash to what its node signed. Bytes that
   * decode as an image were written on purpose, and only the node's own upload URL (scoped to
   * this one key) writes there: the node is convicted, as for a lost arbitration. Bytes that do
   * not decode could be the disk's doing: the tile is redone without blame.
   */
  async dropChanged(
    jobId: string,
    frameNumber: number,
    r: { id: string; nodeId: string; sha256: string },
    e: BlobChangedError,
  ) {
    if (await decodesAsImage(e.bytes)) {
      await this.convict(jobId, frameNumber, r, 'rewrote an accepted tile', {
        reason: 'tile rewritten after it was accepted',
        key: e.key,
        acceptedSha256: r.sha256,
        storedSha256: e.actual,
      });
      return;
    }
    this.logger.warn(`job ${jobId}: result ${r.id} of node ${r.nodeId} dropped: ${e.message}`);
    await this.redo(jobId, [r.id], 'result changed after acceptance');
  }

  /**
   * Results that do not count: their tiles go back to the pool. The change is published before
   * waiting agents are woken, so a page shows the new leases as re-renders.
   */
  private async redo(jobId: string, resultIds: string[], reason: string) {
    await this.repo.discardResults(resultIds);
    this.events.publish({ type: 'job.changed', jobId, reason });
    this.signal.notify();
  }
}

/** Right and bottom neighbours of every tile: each shared edge once. */
function neighbourPairs(tiles: RenderedTile[]): [RenderedTile, RenderedTile][] {
  const at = new Map(tiles.map((t) => [`${t.tileX},${t.tileY}`, t]));
  const pairs: [RenderedTile, RenderedTile][] = [];
  for (const t of tiles) {
    for (const [dx, dy] of [
      [1, 0],
      [0, 1],
    ]) {
      const n = at.get(`${t.tileX + dx},${t.tileY + dy}`);
      if (n) pairs.push([t, n]);
    }
  }
  return pairs;
}

function summary(c: ComparisonResult) {
  return { verdict: c.verdict, mode: c.mode, reason: c.reason, metrics: c.metrics };
}

function evidence(where: PixelRegion, c: ComparisonResult, extra: object) {
  return { region: where, ...extra, ...summary(c), failed: c.failed };
}

async function decodesAsImage(bytes: Buffer): Promise<boolean> {
  try {
    await decodePng(bytes);
    return true;
  } catch {
    return false;
  }
}
