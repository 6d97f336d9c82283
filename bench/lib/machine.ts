// The machine a benchmark ran on, for the head of its report (bench-env adds the services).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { promisify } from 'node:util';
import { repoRoot } from '../../scripts/lib/repo-root';

const run = promisify(execFile);

export interface Machine {
  date: string;
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  blender: string;
  commit: string;
  /** 1-minute load average when the run started */
  loadAtStart: number;
}

export async function firstLine(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { timeout: 30_000 });
    return stdout.split('\n')[0].trim();
  } catch {
    return 'unknown';
  }
}

export async function describeMachine(blenderPath: string): Promise<Machine> {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuModel = m[1].trim();
  } catch {
    // not Linux
  }
  let root = process.cwd();
  try {
    root = repoRoot(__dirname);
  } catch {
    // compiled outside the repository
  }
  const head = await firstLine('git', ['-C', root, 'rev-parse', '--short', 'HEAD']);
  // the benchmarks' own result files (bench/*.md) do not make the code under test uncommitted
  const dirty = await firstLine('git', [
    '-C',
    root,
    'status',
    '--porcelain',
    '--',
    '.',
    ':(exclude)bench/*.md',
  ]);
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    nproc: cpus().length,
    cpuModel,
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    blender: await firstLine(blenderPath, ['--version']),
    commit: head + (dirty && dirty !== 'unknown' ? ' (with uncommitted changes)' : ''),
    loadAtStart: loadavg()[0],
  };
}
