/**
 * Prisma-compatible migration runner that needs no Prisma schema engine (which cannot be
 * downloaded offline). It reads `prisma/migrations/<timestamp>_<name>/migration.sql` and keeps
 * Prisma's own `_prisma_migrations` table, so `prisma migrate deploy` / `prisma migrate status`
 * work on the same database wherever the engine is available, and vice versa.
 *
 * Differences from `prisma migrate deploy`, all on the safe side:
 * - each migration runs in one transaction together with its `_prisma_migrations` row, so a failing
 *   migration leaves nothing behind (no half-applied schema, no "failed" row) and can simply be fixed
 *   and re-run. Consequence: a migration.sql must not contain statements Postgres refuses inside a
 *   transaction (e.g. `CREATE INDEX CONCURRENTLY`).
 * - an applied migration whose migration.sql was edited afterwards is refused (checksum mismatch),
 *   as `prisma migrate dev` does.
 * It honours Prisma's conventions: same advisory lock id (so it also excludes a concurrent
 * `prisma migrate deploy`), checksum = SHA-256 hex of migration.sql (line-ending agnostic, and the old
 * non-zero-padded format is accepted), `?schema=` in the URL, rows rolled back with
 * `prisma migrate resolve --rolled-back` are applied again.
 *
 * CLI: `node dist/scripts/migrate.js` (or `npm run db:migrate`) creates the database when missing
 * and applies pending migrations to DATABASE_URL. scripts/setup.sh runs this file without a build.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';

/** The advisory lock `prisma migrate` takes ("a unique number we chose to identify Migrate"). */
export const PRISMA_MIGRATE_LOCK_ID = 72707369;
export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/tessera';
const DEFAULT_LOCK_TIMEOUT_MS = 5 * 60_000;
const CHECKSUM_LENGTH = 64;

/** The table exactly as Prisma's schema engine creates it on Postgres. */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export class MigrationError extends Error {
  override name = 'MigrationError';
}

export interface LocalMigration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateOptions {
  /** How long to wait for another migrator (replica) holding the lock. Default 5 minutes. */
  lockTimeoutMs?: number;
  /** Receives notices such as migrations recorded in the database but missing locally. */
  log?: (line: string) => void;
}

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  started_at: Date;
  logs: string | null;
}

// ---------------------------------------------------------------------------------------------
// Pure parts

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The checksum Prisma records for a migration script: SHA-256 of its UTF-8 bytes, lowercase hex. */
export function migrationChecksum(sql: string): string {
  return sha256(sql).toString('hex');
}

/**
 * Whether `sql` matches a recorded checksum the way Prisma decides it: the script as is, with CRLF
 * turned into LF, or LF into CRLF (git may rewrite line endings); and checksums written by old
 * engines without zero padding (prisma-engines#1887).
 */
export function checksumMatches(sql: string, checksum: string): boolean {
  const variants = [sql, sql.replace(/\r\n/g, '\n'), sql.replace(/\n/g, '\r\n')];
  return variants.some((variant) => {
    const digest = sha256(variant);
    const rendered =
      checksum.length !== 0 && checksum.length !== CHECKSUM_LENGTH
        ? Array.from(digest, (byte) => byte.toString(16)).join('')
        : digest.toString('hex');
    return rendered === checksum;
  });
}

/** Quote an SQL identifier (database or schema name). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export interface ParsedDatabaseUrl {
  /** Database name from the URL path. */
  database: string;
  /** Prisma's `?schema=` parameter, if any. */
  schema?: string;
  /** The URL for `pg`, without the Prisma-only `schema` parameter. */
  connectionString: string;
  /** `host:port` for messages (never the password). */
  server: string;
  /** The same server and credentials, another database. */
  withDatabase(database: string): string;
}

export function parseDatabaseUrl(databaseUrl: string): ParsedDatabaseUrl {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new MigrationError('DATABASE_URL is not a valid URL (postgresql://user@host:port/db)');
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new MigrationError(`DATABASE_URL must be a postgresql:// URL, got ${url.protocol}//…`);
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database) throw new MigrationError('DATABASE_URL names no database (…/dbname)');
  const schema = url.searchParams.get('schema') ?? undefined;
  url.searchParams.delete('schema');
  const base = url.toString();
  const host = url.hostname || url.searchParams.get('host') || 'local socket';
  return {
    database,
    schema,
    connectionString: base,
    server: url.port ? `${host}:${url.port}` : host,
    withDatabase(other: string) {
      const copy = new URL(base);
      copy.pathname = `/${encodeURIComponent(other)}`;
      return copy.toString();
    },
  };
}

/** Prisma's migration folders under `dir`, in the order they apply (by folder name). */
export function readMigrations(dir: string): LocalMigration[] {
  if (!existsSync(dir)) throw new MigrationError(`migrations folder not found: ${dir}`);
  const lock = path.join(dir, 'migration_lock.toml');
  if (existsSync(lock)) {
    const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(readFileSync(lock, 'utf8'))?.[1];
    if (provider && provider !== 'postgresql') {
      throw new MigrationError(
        `${lock} says provider "${provider}"; this runner only applies postgresql migrations`,
      );
    }
  }
  return readdirSync(dir)
    .filter((name) => statSync(path.join(dir, name)).isDirectory())
    .sort()
    .map((name) => {
      const file = path.join(dir, name, 'migration.sql');
      if (!existsSync(file)) {
        throw new MigrationError(`migration folder ${name} has no migration.sql (${file})`);
      }
      const sql = readFileSync(file, 'utf8');
      return { name, sql, checksum: migrationChecksum(sql) };
    });
}

/** 1-based line of a 1-based character position, for error messages. */
function lineOf(sql: string, position: string | undefined): number | undefined {
  const offset = Number(position);
  if (!Number.isInteger(offset) || offset < 1) return undefined;
  return sql.slice(0, offset - 1).split('\n').length;
}

// ---------------------------------------------------------------------------------------------
// Database parts

function pgCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String((error as { code: unknown }).code)
    : undefined;
}

/** An error's message; also for errors whose message is empty (see below). */
export function messageOf(error: unknown): string {
  // Node reports a refused connection to a multi-address host as an AggregateError without message.
  if (error instanceof AggregateError && !error.message) {
    return error.errors.map(messageOf).join('; ');
  }
  return error instanceof Error ? error.message : String(error);
}

async function connect(connectionString: string): Promise<Client> {
  const client = new Client({ connectionString });
  // A dropped connection must reject the pending query, not crash the process.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/**
 * Create the database named in `databaseUrl` when it does not exist, connecting to the server's
 * `postgres` maintenance database (`template1` when that is missing). Needs no special rights when
 * the database already exists. Returns whether it created it; safe to race.
 */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const parsed = parseDatabaseUrl(databaseUrl);
  try {
    await (await connect(parsed.connectionString)).end();
    return false;
  } catch (error) {
    if (pgCode(error) !== '3D000') throw error; // 3D000: database does not exist
  }
  let admin: Client;
  try {
    admin = await connect(parsed.withDatabase('postgres'));
  } catch (error) {
    if (pgCode(error) !== '3D000') throw error;
    admin = await connect(parsed.withDatabase('template1'));
  }
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(parsed.database)}`);
    return true;
  } catch (error) {
    // 42P04 duplicate_database; 23505 when two creators race on pg_database's unique index.
    if (pgCode(error) === '42P04' || pgCode(error) === '23505') return false;
    throw new MigrationError(
      `cannot create database ${parsed.database} on ${parsed.server}: ${messageOf(error)}`,
      { cause: error },
    );
  } finally {
    await admin.end();
  }
}

async function acquireLock(client: Client, timeoutMs: number, server: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock($1) AS locked',
      [PRISMA_MIGRATE_LOCK_ID],
    );
    if (rows[0].locked) return;
    if (Date.now() >= deadline) {
      throw new MigrationError(
        `timed out after ${timeoutMs} ms waiting for the migration lock on ${server} ` +
          `(advisory lock ${PRISMA_MIGRATE_LOCK_ID}, held by another migrator)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function checkHistory(
  local: LocalMigration[],
  rows: MigrationRow[],
  migrationsDir: string,
  log: (line: string) => void,
): Set<string> {
  const byName = new Map(local.map((m) => [m.name, m]));
  const applied = new Set<string>();
  for (const row of rows) {
    if (row.rolled_back_at) continue;
    if (!row.finished_at) {
      const logs = row.logs ? `\nIts log: ${row.logs.trim().slice(0, 2000)}` : '';
      throw new MigrationError(
        `migration ${row.migration_name} started at ${row.started_at.toISOString()} but never ` +
          `finished (failed or interrupted), so the database may be half-migrated. Repair the ` +
          `schema by hand, then mark it with \`npx prisma migrate resolve --rolled-back ` +
          `${row.migration_name}\` (or set rolled_back_at = now() on its _prisma_migrations row) ` +
          `and migrate again.${logs}`,
      );
    }
    const file = byName.get(row.migration_name);
    if (!file) {
      log(
        `note: migration ${row.migration_name} is recorded in the database but not in ${migrationsDir}`,
      );
    } else if (!checksumMatches(file.sql, row.checksum)) {
      throw new MigrationError(
        `migration ${row.migration_name} was modified after it was applied: ` +
          `${path.join(migrationsDir, row.migration_name, 'migration.sql')} has checksum ` +
          `${file.checksum}, the database recorded ${row.checksum}. Applied migrations are ` +
          `immutable: restore the file and put the change in a new migration.`,
      );
    }
    applied.add(row.migration_name);
  }
  return applied;
}

/**
 * Apply the pending migrations in `migrationsDir` to `databaseUrl` (which must exist), each in
 * its own transaction, under Prisma's advisory lock. Returns the names applied by this call.
 */
export async function applyMigrations(
  databaseUrl: string,
  migrationsDir: string,
  options: MigrateOptions = {},
): Promise<{ applied: string[] }> {
  const parsed = parseDatabaseUrl(databaseUrl);
  const local = readMigrations(migrationsDir);
  const log = options.log ?? (() => undefined);
  const client = await connect(parsed.connectionString);
  let locked = false;
  try {
    if (parsed.schema) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(parsed.schema)}`);
      await client.query(`SET search_path TO ${quoteIdent(parsed.schema)}`);
    }
    await acquireLock(client, options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, parsed.server);
    locked = true;
    await client.query(CREATE_MIGRATIONS_TABLE);
    const { rows } = await client.query<MigrationRow>(
      `SELECT migration_name, checksum, finished_at, rolled_back_at, started_at, logs
         FROM "_prisma_migrations" ORDER BY started_at, migration_name`,
    );
    const done = checkHistory(local, rows, migrationsDir, log);

    const applied: string[] = [];
    for (const migration of local.filter((m) => !done.has(m.name))) {
      await client.query('BEGIN');
      try {
        const id = randomUUID();
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at)
           VALUES ($1, $2, $3, clock_timestamp())`,
          [id, migration.checksum, migration.name],
        );
        await client.query(migration.sql);
        await client.query(
          `UPDATE "_prisma_migrations"
              SET finished_at = clock_timestamp(), applied_steps_count = 1
            WHERE id = $1`,
          [id],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        const line = lineOf(migration.sql, (error as { position?: string }).position);
        throw new MigrationError(
          `migration ${migration.name} failed${line ? ` at line ${line}` : ''} and was rolled ` +
            `back (nothing recorded): ${messageOf(error)}`,
          { cause: error },
        );
      }
      applied.push(migration.name);
    }
    return { applied };
  } finally {
    if (locked) {
      await client
        .query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK_ID])
        .catch(() => undefined);
    }
    await client.end().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// CLI

/** `prisma/migrations` of the repository this file lives in (works from scripts/ and dist/scripts/). */
export function findMigrationsDir(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'prisma', 'migrations');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return path.resolve('prisma', 'migrations');
  }
}

/** Create the database if missing, apply pending migrations, print one line. Returns an exit code. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const databaseUrl = env.DATABASE_URL || DEFAULT_DATABASE_URL;
  const migrationsDir = env.MIGRATIONS_DIR || findMigrationsDir();
  try {
    const parsed = parseDatabaseUrl(databaseUrl);
    const created = await ensureDatabase(databaseUrl);
    const { applied } = await applyMigrations(databaseUrl, migrationsDir, {
      lockTimeoutMs: env.MIGRATE_LOCK_TIMEOUT_MS ? Number(env.MIGRATE_LOCK_TIMEOUT_MS) : undefined,
      log: (line) => console.log(line),
    });
    const where = `${parsed.database} on ${parsed.server}${created ? ' (created)' : ''}`;
    console.log(
      applied.length
        ? `${where}: applied ${applied.length} migration(s): ${applied.join(', ')}`
        : `${where}: up to date`,
    );
    return 0;
  } catch (error) {
    const code = pgCode(error);
    console.error(`migrate: ${messageOf(error)}${code ? ` [${code}]` : ''}`);
    return 1;
  }
}

if (require.main === module) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
