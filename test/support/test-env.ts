// Small helpers for e2e tests. The environment itself (test database, Redis, queue prefix, Blender)
// is prepared once per run by ./global-setup.ts.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { findMigrationsDir, parseDatabaseUrl, quoteIdent } from '../../scripts/migrate';

export const DEFAULT_TEST_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/tessera_test';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const MIGRATIONS_DIR = findMigrationsDir(path.join(__dirname, '..', '..'));

/** The migrated database of this test run (set by global-setup). */
export function testDatabaseUrl(): string {
  return process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL;
}

export function redisUrl(): string {
  return process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
}

/** A queue/key prefix no other test (or run) uses: `<run prefix>-<label>-<random>`. */
export function uniqueQueuePrefix(label = 'q'): string {
  const run = process.env.QUEUE_PREFIX ?? `tessera-test-${process.pid}`;
  return `${run}-${label}-${randomBytes(4).toString('hex')}`;
}

const tmpDirs: string[] = [];

/** A fresh directory under os.tmpdir(); removed by cleanupTmpDirs() (call it in afterAll). */
export function tmpDir(prefix = 'tessera-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.push(dir);
  return dir;
}

export function cleanupTmpDirs(): void {
  for (const dir of tmpDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

async function withAdmin<T>(databaseUrl: string, fn: (admin: Client) => Promise<T>): Promise<T> {
  const admin = new Client({
    connectionString: parseDatabaseUrl(databaseUrl).withDatabase('postgres'),
  });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

/** Drop the database named in the URL (after disconnecting its other sessions), if it exists. */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  const { database } = parseDatabaseUrl(databaseUrl);
  await withAdmin(databaseUrl, async (admin) => {
    await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [database],
    );
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`);
  });
}

/** Drop and create the (empty) database named in the URL. */
export async function recreateDatabase(databaseUrl: string): Promise<void> {
  await dropDatabase(databaseUrl);
  const { database } = parseDatabaseUrl(databaseUrl);
  await withAdmin(databaseUrl, (admin) => admin.query(`CREATE DATABASE ${quoteIdent(database)}`));
}

/** The URL of a database on the test server named after `label`, unique to this process. */
export function scratchDatabaseUrl(label: string): string {
  const name = `tessera_test_${label}_${process.pid}_${randomBytes(3).toString('hex')}`;
  return parseDatabaseUrl(testDatabaseUrl()).withDatabase(name.toLowerCase());
}

/** Polls `probe` until it gives something truthy (returned), or fails after `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
