// What every benchmark shares: a fresh database of its own (so leftovers of demos or earlier runs
// never compete for leases), a Redis prefix and storage directory of its own, an API key, the
// coordinator environment, and a description of the machine for the results file.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { issueApiKey } from '../../apps/coordinator/src/auth/api-key';
import { AuthRepository } from '../../apps/coordinator/src/auth/auth.repository';
import { loadConfig } from '../../apps/coordinator/src/config/config';
import { PrismaService } from '../../apps/coordinator/src/prisma/prisma.service';
import {
  applyMigrations,
  DEFAULT_DATABASE_URL,
  findMigrationsDir,
  parseDatabaseUrl,
  quoteIdent,
} from '../../scripts/migrate';
import { describeMachine as describeBase, firstLine, Machine } from './machine';
import { repoRoot } from '../../scripts/lib/repo-root';

export interface BenchEnv {
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  storageDir: string;
  blenderPath: string;
  /** scratch directory for scenes, renders and agent work dirs; removed by close() */
  workDir: string;
  /** what creating a file cost where the work dir went, and in the system's temp folder */
  fileCreate: WorkDirChoice['fileCreate'];
  prisma: PrismaService;
  apiKey: { id: string; secret: string };
  /** environment for startCoordinator (production mode, quiet logs are not assumed) */
  coordinatorEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** cancels every job still rendering, so the next benchmark starts from an idle farm */
  cancelOpenJobs(): Promise<void>;
  close(): Promise<void>;
}

/** `<database of DATABASE_URL>_bench`, dropped and migrated afresh. */
export async function openBenchEnv(): Promise<BenchEnv> {
  const base = parseDatabaseUrl(process.env.DATABASE_URL || DEFAULT_DATABASE_URL);
  const databaseUrl = base.withDatabase(`${base.database}_bench`);
  await recreateDatabase(databaseUrl);
  await applyMigrations(databaseUrl, findMigrationsDir(repoRoot()));

  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  const queuePrefix = `tessera-bench-${process.pid}-${randomBytes(3).toString('hex')}`;
  const { workDir, fileCreate } = chooseWorkDir();
  const storageDir = join(workDir, 'storage');
  const secret = randomBytes(32).toString('hex');
  const config = loadConfig({ ...process.env, DATABASE_URL: databaseUrl, NODE_ENV: 'test' });
  const prisma = new PrismaService(config);
  const apiKey = await issueApiKey(new AuthRepository(prisma), 'bench');
  const blenderPath = process.env.BLENDER_PATH || 'blender';

  return {
    databaseUrl,
    redisUrl,
    queuePrefix,
    storageDir,
    blenderPath,
    workDir,
    fileCreate,
    prisma,
    apiKey,
    coordinatorEnv: (extra = {}) => ({
      NODE_ENV: 'production',
      SECRET: secret,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: queuePrefix,
      STORAGE_DRIVER: 'fs',
      STORAGE_DIR: storageDir,
      BLENDER_PATH: blenderPath,
      ...extra,
    }),
    async cancelOpenJobs() {
      await prisma.$executeRaw`
        UPDATE jobs SET status = 'CANCELLED' WHERE status IN ('PLANNING', 'RENDERING')`;
    },
    async close() {
      await prisma.$disconnect();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

async function recreateDatabase(databaseUrl: string): Promise<void> {
  const parsed = parseDatabaseUrl(databaseUrl);
  if (!/_bench$/.test(parsed.database)) throw new Error(`not a bench database: ${parsed.database}`);
  const admin = new Client({ connectionString: parsed.withDatabase('postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(parsed.database)} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${quoteIdent(parsed.database)}`);
  } finally {
    await admin.end();
  }
}

export interface MachineInfo extends Machine {
  postgres: string;
  redis: string;
  /** µs to create (and close) an empty file in the benchmark's folder, at the start */
  fileCreateUs: number;
  /** the same in the system's temp folder (BENCH_TMPDIR when set) */
  fileCreateTmpdirUs: number;
}

export interface WorkDirChoice {
  workDir: string;
  fileCreate: { us: number; tmpdirUs: number };
}

/**
 * Where the benchmark keeps its files; the coordinator's fs driver creates one per tile there.
 * This machine's ext4 runs without a journal, and there creating a file stays slow for minutes
 * after many were deleted nearby (the allocator skips each recently freed inode): after an
 * earlier benchmark removed its folder, a test suite its temp dirs, a build its output. A
 * coordinator then spent a quarter of its CPU in its file threads. The benchmark is about the
 * coordinator on a disk in steady use (it deletes nothing), not about what ran before: of a few
 * candidate folders (BENCH_TMPDIR alone when set) it takes the one where creating a file is
 * cheapest, and the report gives that cost and the system temp folder's.
 */
function chooseWorkDir(): WorkDirChoice {
  const candidates = process.env.BENCH_TMPDIR
    ? [process.env.BENCH_TMPDIR]
    : [tmpdir(), join(repoRoot(), '.tmp', 'bench'), '/var/tmp'];
  const probed: { dir: string; us: number }[] = [];
  for (const parent of candidates) {
    try {
      mkdirSync(parent, { recursive: true });
      const dir = mkdtempSync(join(parent, 'tessera-bench-'));
      probed.push({ dir, us: probeFileCreate(dir) });
    } catch {
      // not writable here: one candidate fewer
    }
  }
  if (probed.length === 0)
    throw new Error(`no writable folder for the benchmark among ${candidates}`);
  const best = probed.reduce((a, b) => (b.us < a.us ? b : a));
  for (const other of probed)
    if (other !== best) rmSync(other.dir, { recursive: true, force: true });
  return { workDir: best.dir, fileCreate: { us: best.us, tmpdirUs: probed[0].us } };
}

/** µs to create (and close) an empty file in `dir`; the files stay until the folder goes. */
function probeFileCreate(dir: string, files = 300): number {
  const probe = join(dir, 'file-create-probe');
  mkdirSync(probe);
  const started = process.hrtime.bigint();
  for (let i = 0; i < files; i++) closeSync(openSync(join(probe, String(i)), 'wx'));
  return Number(process.hrtime.bigint() - started) / 1000 / files;
}

export async function describeMachine(env: BenchEnv): Promise<MachineInfo> {
  const pg = await env.prisma.$queryRaw<
    { v: string }[]
  >`SELECT current_setting('server_version') AS v`;
  const redis = await firstLine('redis-server', ['--version']);
  return {
    ...(await describeBase(env.blenderPath)),
    fileCreateUs: env.fileCreate.us,
    fileCreateTmpdirUs: env.fileCreate.tmpdirUs,
    postgres: pg[0]?.v ?? 'unknown',
    redis: redis
      .replace(/^Redis server\s*/, '')
      .split(' ')[0]
      .replace(/^v=/, ''),
  };
}

/** CPU time of the whole machine and of some processes, to tell where the cores went. */
export class CpuMeter {
  private readonly tick = 100; // USER_HZ on Linux
  private start?: { wall: number; busy: number; total: number; groups: Map<string, number> };

  /** `pids`: named processes; Postgres (every process named postgres) is measured as well. */
  constructor(private readonly pids: Record<string, number | undefined>) {}

  begin(): void {
    this.start = { wall: Date.now(), ...machineTicks(), groups: this.groupTicks() };
  }

  /** Percent of one core for each named process and for Postgres; `machine` of all cores. */
  end(): Record<string, number> {
    const s = this.start!;
    const now = machineTicks();
    const groups = this.groupTicks();
    const seconds = (Date.now() - s.wall) / 1000;
    const out: Record<string, number> = {
      machine: (100 * (now.busy - s.busy)) / Math.max(1, now.total - s.total),
    };
    for (const [name, after] of groups) {
      const before = s.groups.get(name);
      if (before !== undefined) out[name] = (100 * (after - before)) / this.tick / seconds;
    }
    return out;
  }

  private groupTicks(): Map<string, number> {
    const m = new Map<string, number>();
    for (const [name, pid] of Object.entries(this.pids)) {
      const t = pid === undefined ? undefined : procTicks(pid);
      if (t !== undefined) m.set(name, t.ticks);
    }
    // Postgres: every process named postgres; one that exited in between drops out of both
    // sums (few do: connections are pooled), one that started counts from zero.
    try {
      const now = new Map<number, number>();
      for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const t = procTicks(Number(entry));
        if (t?.comm === 'postgres') now.set(Number(entry), t.ticks);
      }
      const before = this.postgresPids;
      let delta = 0;
      for (const [pid, ticks] of now) delta += ticks - (before?.get(pid) ?? 0);
      this.postgresPids = now;
      m.set('postgres', before ? (this.postgresTotal += delta) : (this.postgresTotal = 0));
    } catch {
      // not Linux
    }
    return m;
  }

  private postgresPids?: Map<number, number>;
  private postgresTotal = 0;
}

function procTicks(pid: number): { comm: string; ticks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    // fields after the command name: state is [0], utime [11], stime [12]
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { comm, ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined; // gone, or not Linux
  }
}

function machineTicks(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = v[3] + (v[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 1 };
  }
}
