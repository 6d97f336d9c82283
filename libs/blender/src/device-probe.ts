// What this Blender can render on, asked of Blender itself (blender-scripts/probe_devices.py):
// the version and the Cycles devices of every backend the build has.
import { BlenderRunOptions, DEFAULT_BLENDER } from './blender-command';
import { BlenderProcess, describeExit } from './blender-process';
import { ProtocolMessage } from './marker';

export interface BlenderDevice {
  /** Cycles backend: CUDA, OPTIX, HIP, METAL, ONEAPI or CPU */
  type: string;
  name: string;
  /** Cycles' device id (stable across runs on one machine) */
  id: string;
}

export interface BlenderDeviceReport {
  blenderVersion: string;
  /** GPU backends with at least one device */
  backends: string[];
  /** every device Cycles sees, the CPU last */
  devices: BlenderDevice[];
}

export class BlenderUnavailableError extends Error {
  override readonly name = 'BlenderUnavailableError';
}

export async function probeBlenderDevices(
  opts: BlenderRunOptions & { timeoutMs?: number } = {},
): Promise<BlenderDeviceReport> {
  let reply: ProtocolMessage | null = null;
  const proc = await BlenderProcess.spawn({
    ...opts,
    script: 'probe_devices.py',
    scriptArgs: [],
    onMessage: (m) => (reply ??= m),
  });
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const timer = setTimeout(() => proc.kill('timeout'), timeoutMs);
  const exit = await proc.exited;
  clearTimeout(timer);
  const blender = opts.blenderPath ?? DEFAULT_BLENDER;
  if (exit.spawnError) {
    throw new BlenderUnavailableError(
      exit.spawnError.code === 'ENOENT'
        ? `Blender not found at "${blender}" (install it or set BLENDER_PATH / --blender)`
        : `cannot run Blender at "${blender}": ${exit.spawnError.message}`,
    );
  }
  if (proc.killReason === 'timeout') {
    throw new BlenderUnavailableError(
      `Blender at "${blender}" did not answer within ${timeoutMs} ms`,
    );
  }
  const m = reply as ProtocolMessage | null;
  if (!m || typeof m.blenderVersion !== 'string' || !Array.isArray(m.devices)) {
    throw new BlenderUnavailableError(
      `"${blender}" did not report its devices (${describeExit(exit)}): ${proc.outputTail(3).replace(/\n/g, ' | ')}`,
    );
  }
  return {
    blenderVersion: m.blenderVersion,
    backends: (m.backends as string[]) ?? [],
    devices: m.devices as BlenderDevice[],
  };
}
