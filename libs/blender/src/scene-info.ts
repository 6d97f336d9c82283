// What blender-scripts/inspect_scene.py reports about a scene, checked at runtime with zod.
import { z } from 'zod';

export interface MissingFile {
  /** library, image, sound, movieclip, font, volume, cachefile or other */
  type: string;
  /** datablock name ("" for other) */
  name: string;
  /** path as stored in the .blend (may be relative: "//textures/wood.png") */
  path: string;
  /** where Blender looked for it */
  absolutePath: string;
}

export interface CyclesInfo {
  /** "CPU" or "GPU" */
  device: string;
  seed: number;
  animatedSeed: boolean;
  /** adaptive sampling makes border tiles differ slightly from full-frame crops */
  adaptiveSampling: boolean;
  /** effective denoising (scene and at least one view layer) */
  denoising: boolean;
  denoiser: string | null;
  /** seconds, 0 = none; a time limit makes output depend on machine speed */
  timeLimit: number;
}

export interface SceneInfo {
  /** the Blender that inspected it, e.g. "3.4.1" */
  blenderVersion: string;
  /** Blender version that saved the file, e.g. "3.4" */
  fileVersion: string;
  fileSubversion: number;
  savedWithNewerBlender: boolean;
  /** the scene that will be rendered (the file's active scene) */
  scene: string;
  scenes: string[];
  /** CYCLES, BLENDER_EEVEE, BLENDER_WORKBENCH, ... */
  engine: string;
  /** final output size, after resolutionPercentage */
  resolution: { width: number; height: number };
  baseResolution: { width: number; height: number };
  resolutionPercentage: number;
  pixelAspect: { x: number; y: number };
  frameStart: number;
  frameEnd: number;
  frameStep: number;
  fps: number;
  /** Cycles samples or EEVEE TAA render samples; null for other engines */
  samples: number | null;
  /** Cycles seed (the farm overrides it per job); null for other engines */
  seed: number | null;
  hasCamera: boolean;
  camera: string | null;
  cameraCount: number;
  /** timeline markers that switch camera */
  cameraMarkers: number;
  /** external files the render needs that are neither packed nor present, as stored in the .blend */
  missingFiles: string[];
  /** the same, with the datablock that uses each file */
  missingFileDetails: MissingFile[];
  /**
   * Every file outside the .blend it refers to (not packed), present here or not. Only the .blend
   * travels to render nodes, and the tile worker refuses scenes whose external files exist on the
   * node, so anything listed here should be packed.
   */
  externalFiles: string[];
  /** null unless the engine is Cycles */
  cycles: CyclesInfo | null;
  output: {
    fileFormat: string;
    colorMode: string;
    colorDepth: string;
    filmTransparent: boolean;
    ditherIntensity: number;
    viewTransform: string;
    look: string;
    /** text burnt into the frame; the tile worker turns it off (it would land in every tile) */
    burnInStamp: boolean;
  };
  border: { enabled: boolean; crop: boolean };
  /** view layers enabled for rendering */
  viewLayers: string[];
  multiview: boolean;
  motionBlur: boolean;
  /** compositor nodes beyond a plain pass-through: filters like blur/glare cross tile edges */
  compositing: boolean;
  /** sequencer strips replace the 3D render */
  sequencer: boolean;
  /** drivers with Python expressions, which do nothing with autoexec disabled */
  pythonDrivers: number;
  /** Blender blocked some auto-run Python */
  autoexecBlocked: boolean;
  linkedLibraries: number;
  objects: number;
}

const int = z.number().int();
const size = z.object({ width: int, height: int });

export const sceneInfoSchema: z.ZodType<SceneInfo> = z.object({
  blenderVersion: z.string(),
  fileVersion: z.string(),
  fileSubversion: int,
  savedWithNewerBlender: z.boolean(),
  scene: z.string(),
  scenes: z.array(z.string()),
  engine: z.string(),
  resolution: size,
  baseResolution: size,
  resolutionPercentage: int,
  pixelAspect: z.object({ x: z.number(), y: z.number() }),
  frameStart: int,
  frameEnd: int,
  frameStep: int,
  fps: z.number(),
  samples: int.nullable(),
  seed: int.nullable(),
  hasCamera: z.boolean(),
  camera: z.string().nullable(),
  cameraCount: int,
  cameraMarkers: int,
  missingFiles: z.array(z.string()),
  missingFileDetails: z.array(
    z.object({ type: z.string(), name: z.string(), path: z.string(), absolutePath: z.string() }),
  ),
  externalFiles: z.array(z.string()),
  cycles: z
    .object({
      device: z.string(),
      seed: int,
      animatedSeed: z.boolean(),
      adaptiveSampling: z.boolean(),
      denoising: z.boolean(),
      denoiser: z.string().nullable(),
      timeLimit: z.number(),
    })
    .nullable(),
  output: z.object({
    fileFormat: z.string(),
    colorMode: z.string(),
    colorDepth: z.string(),
    filmTransparent: z.boolean(),
    ditherIntensity: z.number(),
    viewTransform: z.string(),
    look: z.string(),
    burnInStamp: z.boolean(),
  }),
  border: z.object({ enabled: z.boolean(), crop: z.boolean() }),
  viewLayers: z.array(z.string()),
  multiview: z.boolean(),
  motionBlur: z.boolean(),
  compositing: z.boolean(),
  sequencer: z.boolean(),
  pythonDrivers: int,
  autoexecBlocked: z.boolean(),
  linkedLibraries: int,
  objects: int,
});
