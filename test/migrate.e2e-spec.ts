// scripts/migrate.ts against real Postgres, on scratch databases (not the run's test database).
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { applyMigrations, ensureDatabase, readMigrations } from '../scripts/migrate';
import {
  MIGRATIONS_DIR,
  cleanupTmpDirs,
  dropDatabase,
  scratchDatabaseUrl,
  tmpDir,
} from './support/test-env';

// DROP DATABASE forces a checkpoint, which can take seconds on a busy disk.
jest.setTimeout(120_000);

const folders = readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Tables the migrations create, read from their SQL so this test follows the schema. */
const expectedTables = folders.flatMap((folder) =>
  [
    ...readFileSync(path.join(MIGRATIONS_DIR, folder, 'migration.sql'), 'utf8').matchAll(
      /CREATE TABLE "([^"]+)"/g,
    ),
  ].map((match) => match[1]),
);

/** A copy of the migrations folder that a test may edit. */
function copyOfMigrations(): string {
  const dir = path.join(tmpDir('tessera-migrations-'), 'migrations');
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

function addMigration(dir: string, name: string, sql: string): void {
  mkdirSync(path.join(dir, name));
  writeFileSync(path.join(dir, name, 'migration.sql'), sql);
}

describe('scripts/migrate.ts on Postgres', () => {
  const databases: string[] = [];
  const clients: Client[] = [];

  async function scratch(label: string): Promise<{ url: string; db: Client }> {
    const url = scratchDatabaseUrl(label);
    databases.push(url);
    expect(await ensureDatabase(url)).toBe(true);
    expect(await ensureDatabase(url)).toBe(false);
    const db = new Client({ connectionString: url });
    await db.connect();
    clients.push(db);
    return { url, db };
  }

  async function tables(db: Client): Promise<string[]> {
    const { rows } = await db.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
    );
    return rows.map((row) => row.table_name).sort();
  }

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
    for (const url of databases) await dropDatabase(url);
    cleanupTmpDirs();
  });

  it('applies every migration once and records it as Prisma does', async () => {
    expect(folders.length).toBeGreaterThan(0);
    expect(expectedTables.length).toBeGreaterThan(0);
    const { url, db } = await scratch('apply');

    expect(await applyMigrations(url, MIGRATIONS_DIR)).toEqual({ applied: folders });

    expect(await tables(db)).toEqual(
      expect.arrayContaining([...expectedTables, '_prisma_migrations']),
    );
    const { rows } = await db.query('SELECT * FROM _prisma_migrations ORDER BY migration_name');
    expect(rows).toHaveLength(folders.length);
    rows.forEach((row, i) => {
      expect(row).toMatchObject({
        migration_name: folders[i],
        checksum: sha256(path.join(MIGRATIONS_DIR, folders[i], 'migration.sql')),
        rolled_back_at: null,
        logs: null,
        applied_steps_count: 1,
      });
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.finished_at.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
    });

    // The bookkeeping table has Prisma's exact shape.
    const columns = await db.query(
      `SELECT column_name, data_type, character_maximum_length, is_nullable
         FROM information_schema.columns WHERE table_name = '_prisma_migrations'
        ORDER BY ordinal_position`,
    );
    expect(
      columns.rows.map((c) => [
        c.column_name,
        c.data_type,
        c.character_maximum_length,
        c.is_nullable,
      ]),
    ).toEqual([
      ['id', 'character varying', 36, 'NO'],
      ['checksum', 'character varying', 64, 'NO'],
      ['finished_at', 'timestamp with time zone', null, 'YES'],
      ['migration_name', 'character varying', 255, 'NO'],
      ['logs', 'text', null, 'YES'],
      ['rolled_back_at', 'timestamp with time zone', null, 'YES'],
      ['started_at', 'timestamp with time zone', null, 'NO'],
      ['applied_steps_count', 'integer', null, 'NO'],
    ]);

    // Running again changes nothing.
    expect(await applyMigrations(url, MIGRATIONS_DIR)).toEqual({ applied: [] });
    expect((await db.query('SELECT count(*)::int AS n FROM _prisma_migrations')).rows[0].n).toBe(
      folders.length,
    );
  });

  it('refuses an applied migration whose file was edited', async () => {
    const { url } = await scratch('edited');
    await applyMigrations(url, MIGRATIONS_DIR);
    const dir = copyOfMigrations();
    appendFileSync(
      path.join(dir, folders[0], 'migration.sql'),
      '\nCREATE TABLE "sneaky" (id int);\n',
    );

    await expect(applyMigrations(url, dir)).rejects.toThrow(
      new RegExp(`migration ${folders[0]} was modified after it was applied`),
    );
  });

  it('accepts the same file with Windows line endings', async () => {
    const { url } = await scratch('crlf');
    await applyMigrations(url, MIGRATIONS_DIR);
    const dir = copyOfMigrations();
    const file = path.join(dir, folders[0], 'migration.sql');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/\r?\n/g, '\r\n'));

    expect(await applyMigrations(url, dir)).toEqual({ applied: [] });
  });

  it('applies a new migration, and rolls a failing one back without recording it', async () => {
    const { url, db } = await scratch('pending');
    await applyMigrations(url, MIGRATIONS_DIR);
    const dir = copyOfMigrations();
    addMigration(
      dir,
      '29990101000000_add_widgets',
      'CREATE TABLE "widgets" (id int PRIMARY KEY);\n',
    );
    expect(await applyMigrations(url, dir)).toEqual({ applied: ['29990101000000_add_widgets'] });

    addMigration(
      dir,
      '29990102000000_broken',
      'CREATE TABLE "gadgets" (id int);\n-- a typo on line 3:\nALTR TABLE "gadgets" ADD COLUMN x int;\n',
    );
    await expect(applyMigrations(url, dir)).rejects.toThrow(
      /migration 29990102000000_broken failed at line 3 and was rolled back.*syntax error at or near "ALTR"/,
    );
    expect(await tables(db)).toContain('widgets');
    expect(await tables(db)).not.toContain('gadgets');
    const names = await db.query('SELECT migration_name FROM _prisma_migrations');
    expect(names.rows.map((r) => r.migration_name)).not.toContain('29990102000000_broken');

    // Fixed, it applies.
    writeFileSync(
      path.join(dir, '29990102000000_broken', 'migration.sql'),
      'CREATE TABLE "gadgets" (id int);\n',
    );
    expect(await applyMigrations(url, dir)).toEqual({ applied: ['29990102000000_broken'] });
  });

  it('refuses to continue after a migration that failed under Prisma, until it is resolved', async () => {
    const { url, db } = await scratch('failed');
    await applyMigrations(url, MIGRATIONS_DIR);
    const dir = copyOfMigrations();
    addMigration(dir, '29990101000000_next', 'CREATE TABLE "next_thing" (id int);\n');
    // What `prisma migrate deploy` leaves after a failure: a row with finished_at null and logs.
    await db.query(
      `INSERT INTO _prisma_migrations (id, checksum, migration_name, logs)
       VALUES (gen_random_uuid(), 'x', '29990101000000_next', 'Database error: boom')`,
    );

    await expect(applyMigrations(url, dir)).rejects.toThrow(
      /migration 29990101000000_next started at .* but never finished.*migrate resolve --rolled-back 29990101000000_next.*boom/s,
    );
    expect(await tables(db)).not.toContain('next_thing');

    // `prisma migrate resolve --rolled-back` sets rolled_back_at; then it is applied again.
    await db.query(
      'UPDATE _prisma_migrations SET rolled_back_at = now() WHERE finished_at IS NULL',
    );
    expect(await applyMigrations(url, dir)).toEqual({ applied: ['29990101000000_next'] });
    expect(await tables(db)).toContain('next_thing');
  });

  it('lets concurrent migrators (replicas starting together) apply each migration once', async () => {
    const { url, db } = await scratch('race');
    const results = await Promise.all([1, 2, 3].map(() => applyMigrations(url, MIGRATIONS_DIR)));

    expect(results.flatMap((r) => r.applied).sort()).toEqual(folders);
    expect((await db.query('SELECT count(*)::int AS n FROM _prisma_migrations')).rows[0].n).toBe(
      folders.length,
    );
  });

  it('reads the same migrations the folder holds', () => {
    expect(readMigrations(MIGRATIONS_DIR).map((m) => m.name)).toEqual(folders);
  });
});
