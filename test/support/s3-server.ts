// An in-process S3 protocol server (s3rver 3) for e2e tests of the S3 blob driver.
// s3rver does not verify SigV4 signatures: tests of URL scoping belong to the fs driver.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface S3rverOptions {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  resetOnClose: boolean;
  // Off: the AWS SDK's default virtual-host style would need DNS for <bucket>.127.0.0.1.
  vhostBuckets: boolean;
}
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: S3rverOptions) => S3rverInstance;

// s3rver ships no type declarations; load it untyped and describe the little we use.
const S3rver = createRequire(__filename)('s3rver') as S3rverConstructor;

export interface S3TestServer {
  endpoint: string;
  /** a fresh name per server; not created: the driver's ensureBucket() should do that */
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

export async function startS3Server(): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), 'tessera-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory,
    silent: true,
    resetOnClose: true,
    vhostBuckets: false,
  });
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (err) {
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket: `tessera-test-${randomBytes(4).toString('hex')}`,
    region: 'us-east-1',
    // The only account s3rver knows; it checks the key id, not the signature.
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
