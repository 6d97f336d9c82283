import type { ComparisonMode } from './types';

/** What produced a render, as far as bit-exactness goes. */
export interface RenderProvenance {
  /** Blender's version string (bpy.app.version_string), ideally with the build hash */
  blenderVersion: string;
  /**
   * The device class whose renders are bit-identical to each other, e.g. "CPU", "CUDA",
   * "OPTIX". CPUs differ by Cycles kernel (AVX2 / SSE4.1 / SSE2 render different pixels, see the
   * README), so a CPU class should name the kernel when it is known: "CPU-AVX2".
   */
  deviceClass: string;
}

/**
 * 'exact' when both renders come from the same Blender build on the same device class (then an
 * honest re-render is bit-identical), else 'perceptual'. Unknown (empty) provenance is never exact.
 */
export function chooseMode(a: RenderProvenance, b: RenderProvenance): ComparisonMode {
  const version = (p: RenderProvenance) => p.blenderVersion.trim();
  const device = (p: RenderProvenance) => p.deviceClass.trim().toUpperCase();
  const known = (p: RenderProvenance) => version(p) !== '' && device(p) !== '';
  return known(a) && known(b) && version(a) === version(b) && device(a) === device(b)
    ? 'exact'
    : 'perceptual';
}
