import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { BLOB_STORAGE, type BlobStorage } from './blob-storage';
import { BlobUrlSigner } from './blob-url-signer';
import { BlobUrlService } from './blob-url.service';
import { BlobsController } from './blobs.controller';
import { CheckedBlobs } from './checked-blobs';
import { FsBlobStorage } from './fs-blob-storage';
import { RecentUploads } from './recent-uploads';
import { S3BlobStorage } from './s3-blob-storage';

export async function createBlobStorage(
  config: AppConfig,
  signer: BlobUrlSigner,
): Promise<BlobStorage> {
  if (config.STORAGE_DRIVER === 's3') {
    const s3 = S3BlobStorage.fromConfig(config);
    // Fail at boot, not on the first upload, when the store is unreachable or misconfigured.
    await s3.ensureBucket();
    return s3;
  }
  return new FsBlobStorage(config.STORAGE_DIR, signer, config.PRESIGN_TTL_S);
}

/**
 * Provides BLOB_STORAGE (fs or s3, from config), hash-checked reads of accepted tiles
 * (CheckedBlobs), the fs driver's presigned-URL endpoint and the bytes it just stored
 * (RecentUploads).
 */
@Module({
  controllers: [BlobsController],
  providers: [
    {
      provide: BlobUrlSigner,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new BlobUrlSigner(config.SECRET, config.PUBLIC_URL),
    },
    {
      provide: BLOB_STORAGE,
      inject: [APP_CONFIG, BlobUrlSigner],
      useFactory: createBlobStorage,
    },
    BlobUrlService,
    CheckedBlobs,
    RecentUploads,
  ],
  exports: [BLOB_STORAGE, CheckedBlobs, RecentUploads],
})
export class StorageModule {}
