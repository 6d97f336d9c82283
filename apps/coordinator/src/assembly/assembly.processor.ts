import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger } from '@nestjs/common';
import { Job } from 'bullmq';
import { EventsService } from '../events/events.service';
import { tileGeometryOf } from '../planning/tile-geometry';
import { AssemblyPayload, QueueName } from '../queues/queues';
import { BLOB_STORAGE, BlobStorage } from '../storage/blob-storage';
import { BlobChangedError, CheckedBlobs } from '../storage/checked-blobs';
import { VerificationService } from '../verification/verification.service';
import { AssemblyRepository } from './assembly.repository';
import { composeFrame, encodePng, makeThumbnail } from './stitch';

/** When every tile of a frame is accepted: crop the margins, stitch, store frame and thumbnail. */
@Processor(QueueName.Assembly, { concurrency: 2 })
export class AssemblyProcessor extends WorkerHost {
  private readonly logger = new Logger(AssemblyProcessor.name);

  constructor(
    @Inject(BLOB_STORAGE) private readonly storage: BlobStorage,
    private readonly tiles: CheckedBlobs,
    private readonly verification: VerificationService,
    private readonly repo: AssemblyRepository,
    private readonly events: EventsService,
  ) {
    super();
  }

  async process(queued: Job<AssemblyPayload>): Promise<void> {
    const frame = await this.repo.findFrameWithTiles(queued.data.frameId);
    if (!frame || frame.status === 'DONE') return;
    // A frame reopened by a conviction after this was queued waits for its next verification.
    if (frame.shards.some((s) => s.status !== 'DONE' || !s.result || !s.verifiedAt)) return;
    const size = frame.resolution;
    let tiles;
    try {
      tiles = await Promise.all(
        frame.shards.map(async (s) => ({
          png: await this.tiles.read(s.result!.storageKey, s.result!.sha256),
          ...tileGeometryOf(s),
        })),
      );
    } catch (e) {
      if (!(e instanceof BlobChangedError)) throw e;
      // A tile that changed since it was verified is dropped; the frame is stitched once its
      // new render is verified.
      const changed = frame.shards.find((s) => s.result!.storageKey === e.key)!.result!;
      await this.verification.dropChanged(frame.jobId, frame.number, changed, e);
      return;
    }
    const pixels = await composeFrame(size, tiles);
    // Frame and thumbnail are encoded from the same pixels side by side, and stored side by
    // side: this is the last step between a frame's last tile and the frame being done.
    const [image, thumbnail] = await Promise.all([encodePng(pixels), makeThumbnail(pixels)]);
    const name = String(frame.number).padStart(4, '0');
    const imageKey = `frames/${frame.jobId}/${name}.png`;
    const thumbKey = `thumbs/${frame.jobId}/${name}.png`;
    await Promise.all([
      this.storage.put(imageKey, image, { contentType: 'image/png' }),
      this.storage.put(thumbKey, thumbnail, { contentType: 'image/png' }),
    ]);
    const jobDone = await this.repo.saveFrame(frame.id, frame.jobId, imageKey, thumbKey);
    this.events.publish({ type: 'frame.assembled', jobId: frame.jobId, frame: frame.number });
    if (jobDone)
      this.events.publish({ type: 'job.finished', jobId: frame.jobId, status: 'COMPLETED' });
    this.logger.log(`job ${frame.jobId}: frame ${frame.number} assembled`);
  }
}
