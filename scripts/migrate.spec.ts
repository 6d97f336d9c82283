import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  checksumMatches,
  findMigrationsDir,
  migrationChecksum,
  parseDatabaseUrl,
  quoteIdent,
  readMigrations,
} from './migrate';

describe('migration checksums (as Prisma computes them)', () => {
  it('is the zero-padded SHA-256 hex of the script', () => {
    // The value prisma-engines' own test expects for "hello".
    expect(migrationChecksum('hello')).toBe(
      '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
    );
  });

  it('matches regardless of line endings, and not after an edit', () => {
    const unix = 'CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n';
    const windows = unix.replace(/\n/g, '\r\n');
    expect(checksumMatches(unix, migrationChecksum(windows))).toBe(true);
    expect(checksumMatches(windows, migrationChecksum(unix))).toBe(true);
    expect(checksumMatches(unix, migrationChecksum(unix))).toBe(true);
    expect(checksumMatches(`${unix} `, migrationChecksum(unix))).toBe(false);
    expect(checksumMatches('abc\n', migrationChecksum('abc'))).toBe(false);
  });

  it('accepts checksums old engines wrote without zero padding', () => {
    // A script whose digest has a byte below 0x10, so the old format is shorter.
    let i = 0;
    while (!Buffer.from(migrationChecksum(`SELECT ${i};`), 'hex').some((b) => b < 16)) i++;
    const script = `SELECT ${i};`;
    const digest = Buffer.from(migrationChecksum(script), 'hex');
    const old = Array.from(digest, (b) => b.toString(16)).join('');
    expect(old.length).toBeLessThan(64);
    expect(checksumMatches(script, old)).toBe(true);
    expect(checksumMatches(`${script} `, old)).toBe(false);
  });
});

describe('parseDatabaseUrl', () => {
  it('takes the database, drops Prisma-only ?schema= and swaps databases', () => {
    const parsed = parseDatabaseUrl(
      'postgresql://u:secret@db.example:6543/app?schema=tenant&sslmode=require',
    );
    expect(parsed.database).toBe('app');
    expect(parsed.schema).toBe('tenant');
    expect(parsed.server).toBe('db.example:6543');
    expect(parsed.connectionString).toBe(
      'postgresql://u:secret@db.example:6543/app?sslmode=require',
    );
    expect(parsed.withDatabase('postgres')).toBe(
      'postgresql://u:secret@db.example:6543/postgres?sslmode=require',
    );
  });

  it('rejects what is not a Postgres URL with a database', () => {
    expect(() => parseDatabaseUrl('not a url')).toThrow(/not a valid URL/);
    expect(() => parseDatabaseUrl('mysql://u@h/db')).toThrow(/postgresql:\/\//);
    expect(() => parseDatabaseUrl('postgresql://u@h:5432/')).toThrow(/names no database/);
  });

  it('quotes identifiers', () => {
    expect(quoteIdent('we"ird')).toBe('"we""ird"');
  });
});

describe('readMigrations', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-migrate-spec-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const add = (name: string, sql?: string) => {
    mkdirSync(path.join(dir, name));
    if (sql !== undefined) writeFileSync(path.join(dir, name, 'migration.sql'), sql);
  };

  it('lists migration folders in name order with their checksums, ignoring files', () => {
    writeFileSync(path.join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
    add('20260102000000_second', 'B;');
    add('20260101000000_first', 'A;');
    expect(readMigrations(dir)).toEqual([
      { name: '20260101000000_first', sql: 'A;', checksum: migrationChecksum('A;') },
      { name: '20260102000000_second', sql: 'B;', checksum: migrationChecksum('B;') },
    ]);
  });

  it('refuses a folder without migration.sql, another provider, or no folder', () => {
    add('20260101000000_empty');
    expect(() => readMigrations(dir)).toThrow(/20260101000000_empty has no migration.sql/);
    rmSync(path.join(dir, '20260101000000_empty'), { recursive: true });
    writeFileSync(path.join(dir, 'migration_lock.toml'), 'provider = "mysql"\n');
    expect(() => readMigrations(dir)).toThrow(/provider "mysql"/);
    expect(() => readMigrations(path.join(dir, 'missing'))).toThrow(/not found/);
  });

  it("finds the repository's prisma/migrations from scripts/", () => {
    expect(findMigrationsDir(__dirname)).toBe(
      path.resolve(__dirname, '..', 'prisma', 'migrations'),
    );
  });
});
