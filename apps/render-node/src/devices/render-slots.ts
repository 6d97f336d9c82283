import type { BlenderDevice } from '@tessera/blender';

/** Cycles GPU backends, most capable first: "gpu" picks the first one this Blender has. */
export const GPU_BACKENDS = ['OPTIX', 'CUDA', 'HIP', 'METAL', 'ONEAPI'] as const;

export interface ProbedDevice extends BlenderDevice {
  /** device memory in MiB where a vendor tool told us */
  memoryMb?: number;
}

/** One render worker: a Blender process pinned to one device, with a lease loop of its own. */
export interface RenderSlot {
  /** "cpu", or "<backend>:<index within that backend>", e.g. "optix:0" */
  id: string;
  /** Cycles device type passed to the tile worker */
  backend: string;
  /** Cycles device id enabled in that worker (all others off); undefined for the CPU */
  deviceId?: string;
  name: string;
  memoryMb?: number;
}

export class DeviceSelectionError extends Error {
  override readonly name = 'DeviceSelectionError';
}

/**
 * The operator's device choice ("cpu", "gpu", "cuda", "optix:0,2") against what Blender reported:
 * one slot per chosen GPU (each renders its own tiles), or one CPU slot. Indices count the
 * backend's devices in Blender's order, as `render-node doctor` lists them.
 */
export function selectRenderSlots(choice: string, devices: ProbedDevice[]): RenderSlot[] {
  const text = choice.trim().toLowerCase();
  if (text === 'cpu') return [cpuSlot()];
  const m = /^([a-z]+)(?::(\d+(?:,\d+)*))?$/.exec(text);
  if (!m)
    throw new DeviceSelectionError(
      `device "${choice}" is not cpu, gpu, <backend> or <backend>:<i>,<j>`,
    );
  let backend = m[1].toUpperCase();
  if (backend === 'GPU') {
    const found = GPU_BACKENDS.find((b) => devices.some((d) => d.type === b));
    if (!found) {
      throw new DeviceSelectionError(
        'device "gpu" chosen, but Blender sees no GPU (CUDA, OptiX, HIP, Metal or oneAPI)',
      );
    }
    backend = found;
  } else if (!(GPU_BACKENDS as readonly string[]).includes(backend)) {
    throw new DeviceSelectionError(
      `unknown device backend "${m[1]}" (use cpu, gpu, ${GPU_BACKENDS.join(', ').toLowerCase()})`,
    );
  }
  const ofBackend = devices.filter((d) => d.type === backend);
  if (ofBackend.length === 0) {
    throw new DeviceSelectionError(`Blender sees no ${backend} device`);
  }
  const indices = m[2] ? [...new Set(m[2].split(',').map(Number))] : ofBackend.map((_, i) => i);
  return indices.map((i) => {
    const d = ofBackend[i];
    if (!d) {
      throw new DeviceSelectionError(
        `${backend} device ${i} does not exist (Blender sees ${ofBackend.length}: 0..${ofBackend.length - 1})`,
      );
    }
    return {
      id: `${backend.toLowerCase()}:${i}`,
      backend,
      deviceId: d.id,
      name: d.name,
      memoryMb: d.memoryMb,
    };
  });
}

function cpuSlot(): RenderSlot {
  return { id: 'cpu', backend: 'CPU', name: 'CPU' };
}

/**
 * `nvidia-smi --query-gpu=pci.bus_id,memory.total --format=csv,noheader,nounits` lines to MiB by
 * PCI bus id ("00000000:01:00.0" -> "0000:01:00"), which Cycles puts in its CUDA/OptiX device ids.
 */
export function parseNvidiaSmiMemory(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m =
      /^\s*(?:[0-9a-f]{4})?([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2})\.\d+\s*,\s*(\d+)\s*$/i.exec(line);
    if (m) out.set(m[1].toLowerCase(), Number(m[2]));
  }
  return out;
}

/** Adds memory to the devices whose id names a PCI bus the vendor tool reported. */
export function withMemory(devices: BlenderDevice[], byBus: Map<string, number>): ProbedDevice[] {
  return devices.map((d) => {
    const bus = /([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2})/i.exec(d.id)?.[1]?.toLowerCase();
    const memoryMb = bus ? byBus.get(bus) : undefined;
    return memoryMb === undefined ? { ...d } : { ...d, memoryMb };
  });
}
