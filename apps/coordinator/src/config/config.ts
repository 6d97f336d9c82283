import { z } from 'zod';

// Validated once at boot; everything else receives the typed object, never process.env.
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

// Wei amounts are decimal strings (they do not fit a JS number).
const wei = z
  .string()
  .regex(/^\d{1,78}$/, 'must be a whole number of wei')
  .transform(BigInt);
export const privateKey = z
  .string()
  .regex(/^(0x)?[0-9a-fA-F]{64}$/, 'must be a 32-byte hex private key');
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x-prefixed 20-byte address');

const DEV_SECRET = 'tessera-dev-secret-change-me-in-production';

export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    HOST: z.string().default('127.0.0.1'),
    PUBLIC_URL: z.string().url().optional(),
    DATABASE_URL: z.string().default('postgresql://postgres@localhost:5432/tessera'),
    REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
    QUEUE_PREFIX: z.string().default('tessera'),
    SECRET: z.string().min(16).default(DEV_SECRET),
    STORAGE_DRIVER: z.enum(['fs', 's3']).default('fs'),
    STORAGE_DIR: z.string().default('./data/storage'),
    S3_ENDPOINT: z.string().url().optional(),
    S3_REGION: z.string().default('us-east-1'),
    S3_BUCKET: z.string().optional(),
    S3_ACCESS_KEY_ID: z.string().optional(),
    S3_SECRET_ACCESS_KEY: z.string().optional(),
    S3_FORCE_PATH_STYLE: bool.default(true),
    BLENDER_PATH: z.string().default('blender'),
    INSPECT_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
    MAX_SCENE_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(2 * 1024 ** 3),
    MAX_TILE_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(256 * 1024 ** 2),
    // accepted tiles kept in memory once hashed, for their checks and their frame (0: none)
    RESULT_CACHE_BYTES: z.coerce
      .number()
      .int()
      .min(0)
      .default(64 * 1024 ** 2),
    LEASE_TTL_MS: z.coerce.number().int().min(1000).default(30_000),
    LEASE_SWEEP_MS: z.coerce.number().int().min(100).default(1000),
    // a node's active lease it no longer lists when polling is released once this old: younger
    // ones may be grants whose answers are still on their way (another slot of the same agent)
    LEASE_ORPHAN_GRACE_MS: z.coerce.number().int().min(100).default(5000),
    // a tile that this many different nodes failed to render fails its job, with their reason
    SHARD_MAX_FAILURES: z.coerce.number().int().min(1).default(3),
    LEASE_MAX_WAIT_MS: z.coerce.number().int().min(0).default(25_000),
    SESSION_TTL_MS: z.coerce
      .number()
      .int()
      .positive()
      .default(24 * 3600_000),
    PRESIGN_TTL_S: z.coerce.number().int().positive().default(3600),
    // How often queue entries lost with Redis are re-derived from Postgres.
    RECONCILE_MS: z.coerce.number().int().min(100).default(30_000),
    // Replicas that only serve the API can turn the queue workers off.
    WORKERS: bool.default(true),
    // Payouts through the escrow contract: on when CHAIN_RPC_URL is set. Without a chain, jobs
    // are dispatched at once and nobody is paid (the embedded demo starts its own chain).
    CHAIN_RPC_URL: z.string().url().optional(),
    ESCROW_ADDRESS: address.optional(),
    COORDINATOR_KEY: privateKey.optional(),
    // Blocks on top of a transaction's block before it counts: deeper than any reorg expected.
    CHAIN_CONFIRMATIONS: z.coerce.number().int().min(1).default(2),
    CHAIN_POLL_MS: z.coerce.number().int().min(50).default(2000),
    // A sent escrow transaction still unmined after this long is signed again with the same nonce
    // and higher fees (replacement by fee): one priced under a risen base fee would otherwise
    // hold its nonce, and every later payment, for good.
    CHAIN_TX_REPRICE_MS: z.coerce.number().int().min(1000).default(120_000),
    // The most any escrow transaction may offer per gas (unset: no cap). At the cap, a stuck
    // transaction waits for the chain's fees to fall, with a note on the job's payment.
    CHAIN_MAX_FEE_PER_GAS_WEI: wei.refine((v) => v > 0n, 'must be above 0').optional(),
    // Price per work unit (1 MP x 100 samples) for jobs that do not set maxPriceWei.
    DEFAULT_PRICE_WEI: wei.default(1_000_000_000_000n),
    // What a conviction takes from the operator's stake (capped by the contract at the stake).
    SLASH_WEI: wei.default(10_000_000_000_000_000n),
    // Stake a node must hold in the escrow to be leased work (0: none required).
    MIN_STAKE_WEI: wei.default(0n),
    // Payees per settlement transaction.
    SETTLE_BATCH_SIZE: z.coerce.number().int().min(1).max(500).default(100),
  })
  .superRefine((c, ctx) => {
    if (c.NODE_ENV === 'production' && c.SECRET === DEV_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['SECRET'], message: 'must be set in production' });
    }
    if (c.STORAGE_DRIVER === 's3' && !c.S3_BUCKET) {
      ctx.addIssue({
        code: 'custom',
        path: ['S3_BUCKET'],
        message: 'required with STORAGE_DRIVER=s3',
      });
    }
    if (c.CHAIN_RPC_URL) {
      for (const key of ['ESCROW_ADDRESS', 'COORDINATOR_KEY'] as const) {
        if (!c[key]) {
          ctx.addIssue({ code: 'custom', path: [key], message: 'required with CHAIN_RPC_URL' });
        }
      }
    }
  })
  .transform((c) => ({ ...c, PUBLIC_URL: c.PUBLIC_URL ?? `http://${c.HOST}:${c.PORT}` }));

export type AppConfig = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid coordinator configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** DI token for the validated config. */
export const APP_CONFIG = Symbol('APP_CONFIG');
