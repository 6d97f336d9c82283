import { probeBlenderDevices } from '@tessera/blender';
import type { NodeRenderFacts } from '@tessera/protocol';
import { execFile } from 'node:child_process';
import { readFile, statfs } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import { promisify } from 'node:util';
import {
  parseNvidiaSmiMemory,
  ProbedDevice,
  RenderSlot,
  selectRenderSlots,
  withMemory,
} from '../devices/render-slots';

export interface BenchmarkScore {
  /** million samples x pixels per second on the chosen device(s) */
  score: number;
  renderMs: number;
  at: string;
}

export interface NodeCapabilities {
  blenderVersion: string;
  /** the Cycles device class this agent renders on; results compare exactly within a class */
  deviceClass: string;
  threads: number;
  memoryBytes: number;
  freeDiskBytes: number | null;
  /** every device Blender sees, with memory where a vendor tool told us */
  devices: ProbedDevice[];
  /** GPU backends this Blender build has devices for */
  backends: string[];
  /** the workers this agent runs (the operator's device choice) */
  slots: RenderSlot[];
  /** what the coordinator matches jobs against (nodeSatisfiesJob) */
  render: NodeRenderFacts;
  benchmark?: BenchmarkScore;
  [key: string]: unknown;
}

export interface ProbeOptions {
  blenderPath: string;
  /** the operator's choice: cpu, gpu, cuda, optix:0,1 ... */
  device: string;
  threads?: number;
  workDir: string;
}

/** What the coordinator needs to match work and to compare renders fairly: asked of Blender. */
export async function probeCapabilities(opts: ProbeOptions): Promise<NodeCapabilities> {
  const report = await probeBlenderDevices({ blenderPath: opts.blenderPath });
  const devices = withMemory(report.devices, await nvidiaMemory());
  const slots = selectRenderSlots(opts.device, devices);
  const gpu = slots[0].backend !== 'CPU';
  const memoryMb = gpu
    ? Math.min(...slots.map((s) => s.memoryMb ?? Number.NaN))
    : Math.floor(totalmem() / 2 ** 20);
  const deviceClass = gpu ? slots[0].backend : await cpuDeviceClass();
  return {
    blenderVersion: report.blenderVersion,
    deviceClass,
    threads: opts.threads ?? availableParallelism(),
    memoryBytes: totalmem(),
    freeDiskBytes: await freeDisk(opts.workDir),
    devices,
    backends: report.backends,
    slots,
    render: {
      blenderVersion: report.blenderVersion,
      device: gpu ? 'gpu' : 'cpu',
      // unknown VRAM (no vendor tool) is sent as absent: such a node gets no minVramMb jobs
      ...(Number.isFinite(memoryMb) ? { memoryMb } : {}),
    } as NodeRenderFacts,
  };
}

async function nvidiaMemory(): Promise<Map<string, number>> {
  try {
    const { stdout } = await promisify(execFile)(
      'nvidia-smi',
      ['--query-gpu=pci.bus_id,memory.total', '--format=csv,noheader,nounits'],
      { timeout: 10_000 },
    );
    return parseNvidiaSmiMemory(stdout);
  } catch {
    return new Map(); // no NVIDIA driver tools: memory stays unknown
  }
}

export async function freeDisk(path: string): Promise<number | null> {
  for (let p = path; ; p = p.slice(0, Math.max(1, p.lastIndexOf('/')))) {
    try {
      const s = await statfs(p);
      return s.bavail * s.bsize;
    } catch {
      if (p === '/' || p.length <= 1) return null; // walk up to an existing folder
    }
  }
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
