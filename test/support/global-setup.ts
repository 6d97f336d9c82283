// Jest globalSetup of the e2e project: one fresh, migrated database per run, a Redis check, a queue
// prefix of its own and the Blender to use. The environment variables set here reach every test.
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { applyMigrations, messageOf, parseDatabaseUrl } from '../../scripts/migrate';
import {
  DEFAULT_REDIS_URL,
  DEFAULT_TEST_DATABASE_URL,
  MIGRATIONS_DIR,
  recreateDatabase,
} from './test-env';

const HINT = 'Is it running? `bash scripts/setup.sh` starts the local services.';

function pingRedis(url: string, timeoutMs = 5000): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host: hostname.replace(/^\[|\]$/g, ''),
      port: Number(port || 6379),
    });
    const fail = (why: string) => {
      socket.destroy();
      reject(
        new Error(`Redis at ${hostname}:${port || 6379} did not answer PING (${why}). ${HINT}`),
      );
    };
    socket.setTimeout(timeoutMs, () => fail('timeout'));
    socket.on('error', (error) => fail(error.message));
    socket.on('connect', () => socket.write('PING\r\n'));
    // "+PONG", or "-NOAUTH…" when a password is required, still proves the server is up.
    socket.once('data', (data) => {
      socket.end();
      if (/^[+-]/.test(data.toString())) resolve();
      else fail(`unexpected reply ${JSON.stringify(data.toString().slice(0, 40))}`);
    });
  });
}

function findBlender(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, 'blender');
    if (existsSync(candidate)) return candidate;
  }
  return 'blender';
}

export default async function globalSetup(): Promise<void> {
  const databaseUrl = process.env.TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL;
  const { database, server } = parseDatabaseUrl(databaseUrl);
  // It is dropped below: never let a mistyped TEST_DATABASE_URL point at a real database.
  if (!/test/i.test(database)) {
    throw new Error(`TEST_DATABASE_URL must name a database containing "test" (got ${database})`);
  }
  try {
    await recreateDatabase(databaseUrl);
    await applyMigrations(databaseUrl, MIGRATIONS_DIR);
  } catch (error) {
    throw new Error(`test database ${database} on ${server}: ${messageOf(error)}. ${HINT}`, {
      cause: error,
    });
  }

  const redisUrl = process.env.REDIS_URL || DEFAULT_REDIS_URL;
  await pingRedis(redisUrl);

  process.env.DATABASE_URL = databaseUrl;
  process.env.REDIS_URL = redisUrl;
  process.env.QUEUE_PREFIX = `tessera-test-${process.pid}`;
  process.env.BLENDER_PATH = process.env.BLENDER_PATH || findBlender();
}
