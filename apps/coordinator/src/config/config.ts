import { z } from 'zod';

// Validated once at boot; everything else receives the typed object, never process.env.
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

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
    LEASE_TTL_MS: z.coerce.number().int().min(1000).default(30_000),
    LEASE_SWEEP_MS: z.coerce.number().int().min(100).default(1000),
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
