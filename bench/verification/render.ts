// Real renders for the verification benchmark: a test scene, one persistent tile worker per scene
// (the render-node's own BlenderTileWorker), and the decoded pixels of everything it renders.
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BlenderTileWorker, makeTestScene } from '@tessera/blender';
import type { PixelRegion } from '@tessera/protocol';
import { decodePng, RgbaImage } from '@tessera/verification';

export const BLENDER = process.env.BLENDER_PATH || process.env.BLENDER || 'blender';

export interface SceneSpec {
  width: number;
  height: number;
  samples: number;
  frames: number;
  seed: number;
}

export interface RenderRequest {
  frame: number;
  region: PixelRegion;
  threads: number;
  samples?: number;
  seed?: number;
}

export interface Rendered {
  img: RgbaImage;
  /** the PNG exactly as Blender wrote it */
  png: Buffer;
  /** Blender's render call */
  renderMs: number;
  /** request sent to reply received (render + PNG save + pipe) */
  wallMs: number;
}

let nextId = 0;

/** One scene and its persistent tile worker. */
export class SceneRenderer {
  renders = 0;
  renderMs = 0;
  wallMs = 0;

  private constructor(
    readonly spec: SceneSpec,
    readonly blend: string,
    private readonly worker: BlenderTileWorker,
    private readonly dir: string,
  ) {}

  static async open(dir: string, name: string, spec: SceneSpec): Promise<SceneRenderer> {
    mkdirSync(join(dir, name), { recursive: true });
    const blend = await makeTestScene(join(dir, `${name}.blend`), {
      ...spec,
      blenderPath: BLENDER,
    });
    const worker = await BlenderTileWorker.start(blend, { threads: 2, blenderPath: BLENDER });
    return new SceneRenderer(spec, blend, worker, join(dir, name));
  }

  get blenderVersion(): string {
    return this.worker.info.blenderVersion;
  }

  get full(): PixelRegion {
    return { x: 0, y: 0, width: this.spec.width, height: this.spec.height };
  }

  async render(req: RenderRequest): Promise<Rendered> {
    const out = join(this.dir, `r${nextId++}.png`);
    const t0 = performance.now();
    const result = await this.worker.render({ ...req, out });
    const wallMs = performance.now() - t0;
    const png = await readFile(out);
    const img = await decodePng(png);
    if (img.width !== req.region.width || img.height !== req.region.height) {
      throw new Error(
        `asked for ${req.region.width}x${req.region.height}, Blender wrote ${img.width}x${img.height}`,
      );
    }
    this.renders++;
    this.renderMs += result.renderMs;
    this.wallMs += wallMs;
    return { img, png, renderMs: result.renderMs, wallMs };
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
