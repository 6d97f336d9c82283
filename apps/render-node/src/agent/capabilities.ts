import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { promisify } from 'node:util';

export interface NodeCapabilities {
  blenderVersion: string;
  /** the Cycles device class this agent renders on; results compare exactly within a class */
  deviceClass: string;
  threads: number;
  memoryBytes: number;
}

/** What the coordinator needs to know to match work and to compare renders fairly. */
export async function probeCapabilities(
  blenderPath: string,
  threads?: number,
): Promise<NodeCapabilities> {
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(blenderPath, ['--version'], { timeout: 30_000 }));
  } catch (e) {
    throw new Error(
      `cannot run Blender at "${blenderPath}" (set BLENDER_PATH): ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  const version = /Blender (\d+\.\d+(?:\.\d+)?)/.exec(stdout)?.[1];
  if (!version) throw new Error(`"${blenderPath} --version" did not report a Blender version`);
  return {
    blenderVersion: version,
    deviceClass: await cpuDeviceClass(),
    threads: threads ?? cpus().length,
    memoryBytes: totalmem(),
  };
}

/**
 * Cycles picks its CPU kernel by instruction set, and the kernels' float results differ in the
 * last bits: renders compare exactly only within one kernel, so the class names it.
 */
export async function cpuDeviceClass(cpuinfo = '/proc/cpuinfo'): Promise<string> {
  let flags: Set<string>;
  try {
    const text = await readFile(cpuinfo, 'utf8');
    flags = new Set((/^flags\s*:\s*(.*)$/m.exec(text)?.[1] ?? '').split(/\s+/));
  } catch {
    return 'CPU';
  }
  if (flags.has('avx2')) return 'CPU-AVX2';
  if (flags.has('sse4_1')) return 'CPU-SSE41';
  return 'CPU';
}
