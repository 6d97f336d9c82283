// The Blender side against the real Blender: test scene generation, scene inspection, structural
// checks of real files, and the persistent tile worker, whose border tiles must be pixel-identical
// to crops of a plain `blender -b scene.blend -f N` render. Needs Blender only.
import { gzipSync } from 'node:zlib';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BlendFileError,
  BlenderTileWorker,
  inspectScene,
  makeTestScene,
  PixelRegion,
  SceneInspectionError,
  SpareTileWorker,
  TileWorkerError,
  validateBlendFile,
  validateBlendHeader,
} from '@tessera/blender';
import {
  BLENDER,
  overlappingQuads,
  pixelDiff,
  renderFullFrames,
  rgbaPixels,
  testScene,
} from './support/blender-fixtures';

// Jest applies only the global testTimeout, not the e2e project's: set it here.
jest.setTimeout(120_000);

let dir: string;
let scene: string;
/** no camera, a missing texture, zstd-compressed */
let broken: string;
/** textured with an image file that exists on this machine but is not in the .blend */
let external: string;
let localImage: string;
let full: Map<number, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-blender-e2e-'));
  scene = await testScene(join(dir, 'scene.blend'));
  await mkdir(join(dir, 'full'));
  await mkdir(join(dir, 'private'));
  localImage = join(dir, 'private', 'secret.png');
  await writeFile(localImage, 'a file of the render node that must not leak into tiles');
  [full, broken, external] = await Promise.all([
    renderFullFrames(scene, [1, 2, 3], join(dir, 'full')),
    testScene(join(dir, 'broken.blend'), {
      noCamera: true,
      missingImage: true,
      compress: true,
      frames: 1,
    }),
    testScene(join(dir, 'external.blend'), { externalImage: localImage, frames: 1 }),
  ]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function inspectionError(
  path: string,
  opts: Parameters<typeof inspectScene>[1] = {},
): Promise<SceneInspectionError> {
  const e = await inspectScene(path, { blenderPath: BLENDER, ...opts }).then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof SceneInspectionError))
    throw new Error(`expected a SceneInspectionError: ${e}`);
  return e;
}

async function workerError(p: Promise<unknown>): Promise<TileWorkerError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof TileWorkerError)) throw new Error(`expected a TileWorkerError: ${e}`);
  return e;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('inspectScene', () => {
  it('reports the facts of a scene', async () => {
    const info = await inspectScene(scene, { blenderPath: BLENDER, timeoutMs: 60_000 });
    expect(info).toMatchObject({
      engine: 'CYCLES',
      resolution: { width: 160, height: 90 },
      resolutionPercentage: 100,
      frameStart: 1,
      frameEnd: 3,
      frameStep: 1,
      fps: 24,
      samples: 16,
      seed: 7,
      hasCamera: true,
      camera: 'Camera',
      missingFiles: [],
      cycles: { device: 'CPU', denoising: false, adaptiveSampling: false, animatedSeed: false },
      output: { fileFormat: 'PNG', colorMode: 'RGBA', colorDepth: '8', ditherIntensity: 0 },
      compositing: false,
      pythonDrivers: 0,
    });
    expect(info.blenderVersion).toMatch(/^\d+\.\d+/);
    expect(info.fileVersion).toBe(validateBlendHeader(await readFile(scene)).header!.version);
  });

  it('rejects a scene without a camera and lists missing external files', async () => {
    const [noCamera, info] = await Promise.all([
      inspectionError(broken),
      inspectScene(broken, { blenderPath: BLENDER, requireCamera: false }),
    ]);
    expect(noCamera.code).toBe('NO_CAMERA');
    expect(noCamera.message).toBe(
      'scene "Scene" has no active camera, so there is nothing to render',
    );
    expect(info.hasCamera).toBe(false);
    expect(info.missingFiles).toEqual(['//textures/does_not_exist.png']);
    expect(info.missingFileDetails[0]).toMatchObject({ type: 'image', name: 'MissingTexture' });
  });

  it('rejects files that are not a complete .blend, with clear messages', async () => {
    const text = join(dir, 'notes.blend');
    const empty = join(dir, 'empty.blend');
    const cut = join(dir, 'cut.blend');
    const blend = await readFile(scene);
    await writeFile(text, 'this is not a blend file\n');
    await writeFile(empty, '');
    await writeFile(cut, blend.subarray(0, Math.floor(blend.length / 2)));

    // The structural check answers before Blender starts...
    expect(await inspectionError(text)).toMatchObject({
      code: 'NOT_A_BLEND',
      message: 'not a .blend file (missing BLENDER header)',
    });
    expect(await inspectionError(empty)).toMatchObject({ code: 'EMPTY', message: 'empty file' });
    const truncated = await inspectionError(cut);
    expect(truncated.code).toBe('TRUNCATED');
    expect(truncated.message).toMatch(
      /^truncated \.blend: block .+ at offset \d+ \(\d+ bytes\) runs past the end of the file/,
    );
    // ...and Blender itself says the same without it.
    const [byBlender, cutByBlender, missing] = await Promise.all([
      inspectionError(text, { checkStructure: false }),
      inspectionError(cut, { checkStructure: false }),
      inspectionError(join(dir, 'nope.blend')),
    ]);
    expect(byBlender).toMatchObject({
      code: 'NOT_A_BLEND',
      message: 'not a .blend file: Blender cannot read notes.blend',
    });
    expect(cutByBlender.code).toBe('CORRUPT');
    expect(cutByBlender.message).toMatch(/^corrupt or truncated \.blend: .*cut\.blend/);
    expect(cutByBlender.message).not.toContain(dir); // no server paths for the uploader
    expect(missing).toMatchObject({ code: 'NOT_FOUND', message: 'file not found: nope.blend' });
  });

  it('kills an inspection that runs out of time', async () => {
    const started = Date.now();
    const e = await inspectionError(scene, { timeoutMs: 150 });
    expect(e).toMatchObject({
      code: 'TIMEOUT',
      message: 'scene inspection timed out after 150 ms',
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('says when Blender is missing', async () => {
    const e = await inspectionError(scene, { blenderPath: join(dir, 'no-such-blender') });
    expect(e.code).toBe('BLENDER_NOT_FOUND');
  });
});

describe('validateBlendHeader on real files', () => {
  it('accepts the generated scene, plain and gzip-compressed', async () => {
    const blend = await readFile(scene);
    const plain = validateBlendHeader(blend);
    expect(plain).toMatchObject({
      compression: 'none',
      structurallyChecked: true,
      trailingBytes: 0,
    });
    expect(plain.blockCount).toBeGreaterThan(100);
    expect(await validateBlendFile(scene)).toEqual(plain);
    const gz = validateBlendHeader(gzipSync(blend));
    expect(gz).toMatchObject({ compression: 'gzip', blockCount: plain.blockCount });
  });

  it('detects every truncation of the generated scene', async () => {
    const blend = await readFile(scene);
    const cuts = [5, 12, 30, 1000, blend.length >> 1, blend.length - 25, blend.length - 24];
    for (const cut of [...cuts, blend.length - 1]) {
      let error: unknown;
      try {
        validateBlendHeader(blend.subarray(0, cut));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(BlendFileError);
      expect((error as BlendFileError).code).toBe('TRUNCATED');
    }
  });

  it('checks the zstd frames of a compressed scene and detects its truncation', async () => {
    const zst = await readFile(broken);
    expect(validateBlendHeader(zst)).toMatchObject({
      compression: 'zstd',
      structurallyChecked: false,
      header: null,
    });
    expect((await validateBlendFile(broken)).compression).toBe('zstd');
    for (const cut of [10, zst.length >> 1, zst.length - 9, zst.length - 1]) {
      expect(() => validateBlendHeader(zst.subarray(0, cut))).toThrow(/truncated/);
    }
  });
});

describe('BlenderTileWorker', () => {
  async function expectTileMatchesFrame(tile: string, frame: number, region: PixelRegion) {
    const [got, want] = await Promise.all([rgbaPixels(tile), rgbaPixels(full.get(frame)!, region)]);
    expect({ width: got.width, height: got.height }).toEqual({
      width: region.width,
      height: region.height,
    });
    if (!got.data.equals(want.data)) {
      throw new Error(
        `tile ${JSON.stringify(region)} of frame ${frame} differs: ${JSON.stringify(pixelDiff(got, want))}`,
      );
    }
  }

  it('renders overlapping tiles in one process, pixel-identical to full-frame crops', async () => {
    const tiles = join(dir, 'tiles');
    await mkdir(tiles);
    const started = Date.now();
    const worker = await BlenderTileWorker.start(scene, { blenderPath: BLENDER, threads: 2 });
    const startMs = Date.now() - started;
    const logs: string[] = [];
    worker.onLog((line) => logs.push(line));
    expect(worker.info).toMatchObject({ engine: 'CYCLES', width: 160, height: 90 });
    const pid = worker.pid!;

    // Frame 2 as a 2x2 grid with 6-pixel overlaps, all queued at once.
    const quads = overlappingQuads(160, 90, 6);
    const results = await Promise.all(
      quads.map((region, i) =>
        worker.render({ frame: 2, region, seed: 7, samples: 16, out: join(tiles, `f2_${i}.png`) }),
      ),
    );
    for (const [i, region] of quads.entries()) {
      expect(results[i]).toMatchObject({ width: region.width, height: region.height });
      await expectTileMatchesFrame(join(tiles, `f2_${i}.png`), 2, region);
    }

    // A request Blender refuses does not kill the worker.
    await mkdir(join(tiles, 'taken.png'));
    const refused = await workerError(
      worker.render({ frame: 1, region: quads[0], seed: 7, out: join(tiles, 'taken.png') }),
    );
    expect(refused.code).toBe('RENDER_FAILED');
    expect(worker.isAlive).toBe(true);
    const invalid = await workerError(
      worker.render({
        frame: 1,
        region: { x: 150, y: 0, width: 20, height: 10 },
        out: join(tiles, 'x.png'),
      }),
    );
    expect(invalid.code).toBe('INVALID_REQUEST');

    // Same tile, one thread instead of two: the same pixels, and the same PNG bytes.
    await worker.render({
      frame: 2,
      region: quads[0],
      seed: 7,
      threads: 1,
      out: join(tiles, 'again.png'),
    });
    expect(
      (await readFile(join(tiles, 'again.png'))).equals(await readFile(join(tiles, 'f2_0.png'))),
    ).toBe(true);

    // Overrides apply to one request only: later requests get the scene's seed and samples again.
    await worker.render({
      frame: 3,
      region: quads[3],
      seed: 3,
      samples: 2,
      out: join(tiles, 'noisy.png'),
    });

    // Other frames, odd regions, and back to frame 2: the persistent data follows the frame.
    const more: Array<[number, PixelRegion]> = [
      [3, { x: 13, y: 7, width: 31, height: 17 }],
      [1, { x: 0, y: 51, width: 160, height: 39 }],
      [3, { x: 159, y: 89, width: 1, height: 1 }],
      [2, { x: 37, y: 0, width: 101, height: 90 }],
    ];
    for (const [i, [frame, region]] of more.entries()) {
      await worker.render({ frame, region, out: join(tiles, `more_${i}.png`) });
      await expectTileMatchesFrame(join(tiles, `more_${i}.png`), frame, region);
    }

    expect(worker.pid).toBe(pid); // one process throughout
    expect(logs.some((l) => /^Fra:2 .*Sample 16\/16/.test(l))).toBe(true);
    await worker.close();
    expect(worker.isAlive).toBe(false);
    expect(alive(pid)).toBe(false);
    expect(
      (
        await workerError(
          worker.render({ frame: 1, region: quads[0], out: join(tiles, 'late.png') }),
        )
      ).code,
    ).toBe('WORKER_CLOSED');
    // Blender wrote the requested files and nothing else, here or next to the scene.
    expect((await readdir(tiles)).sort()).toEqual(
      [
        ...quads.map((_, i) => `f2_${i}.png`),
        ...more.map((_, i) => `more_${i}.png`),
        'again.png',
        'noisy.png',
        'taken.png',
      ].sort(),
    );
    expect((await readdir(dir)).sort()).toEqual(
      [
        'broken.blend',
        'cut.blend',
        'empty.blend',
        'external.blend',
        'full',
        'notes.blend',
        'private',
        'scene.blend',
        'tiles',
      ].sort(),
    );
    console.log(
      `worker start ${startMs} ms; tiles renderMs ${results.map((r) => r.renderMs).join(', ')}`,
    );
  });

  it('starts a spare Blender without a scene that becomes the worker of the scene it loads', async () => {
    const spare = await SpareTileWorker.spawn({ blenderPath: BLENDER, threads: 2 });
    const pid = spare.pid!;
    const loadStarted = Date.now();
    const worker = await spare.load(scene);
    const loadMs = Date.now() - loadStarted;
    expect(worker.pid).toBe(pid);
    expect(worker.info).toMatchObject({ engine: 'CYCLES', width: 160, height: 90 });
    const region = overlappingQuads(160, 90, 6)[3];
    await worker.render({ frame: 3, region, seed: 7, samples: 16, out: join(dir, 'spare.png') });
    await expectTileMatchesFrame(join(dir, 'spare.png'), 3, region);
    // one scene per process: the next scene needs a Blender of its own
    const again = await workerError(spare.load(scene));
    expect(again.message).toMatch(/has a scene/);
    await worker.close();
    expect(alive(pid)).toBe(false);

    // a spare that never got a scene quits when told, and one given a bad scene says why
    const unused = await SpareTileWorker.spawn({ blenderPath: BLENDER });
    await unused.close();
    expect(alive(unused.pid!)).toBe(false);
    const e = await workerError(
      (await SpareTileWorker.spawn({ blenderPath: BLENDER })).load(broken),
    );
    expect(e.code).toBe('START_FAILED');
    expect(e.message).toMatch(/no active camera/);
    console.log(`spare: scene loaded ${loadMs} ms after the request`);
  });

  it('kills the worker when a render exceeds its timeout', async () => {
    const worker = await BlenderTileWorker.start(scene, { blenderPath: BLENDER, threads: 1 });
    const pid = worker.pid!;
    const region = { x: 0, y: 0, width: 160, height: 90 };
    const slow = worker.render({
      frame: 1,
      region,
      samples: 1_000_000,
      out: join(dir, 'slow.png'),
      timeoutMs: 1000,
    });
    const queued = worker.render({ frame: 1, region, out: join(dir, 'queued.png') });
    const [e, q] = await Promise.all([workerError(slow), workerError(queued)]);
    expect(e.code).toBe('RENDER_TIMEOUT');
    expect(e.message).toMatch(/took longer than 1000 ms; the Blender process was killed/);
    expect(q.code).toBe('RENDER_TIMEOUT');
    expect(q.message).toMatch(/^not rendered: /);
    expect(worker.isAlive).toBe(false);
    expect(alive(pid)).toBe(false);
  });

  it('rejects the pending render when the worker is killed mid-render', async () => {
    const worker = await BlenderTileWorker.start(scene, { blenderPath: BLENDER, threads: 1 });
    const sampling = new Promise<void>((resolve) =>
      worker.onLog((line) => /Sample \d+\/1000000/.test(line) && resolve()),
    );
    const render = worker.render({
      frame: 2,
      region: { x: 0, y: 0, width: 160, height: 90 },
      samples: 1_000_000,
      out: join(dir, 'killed.png'),
    });
    await sampling;
    await worker.kill();
    const e = await workerError(render);
    expect(e.code).toBe('WORKER_KILLED');
    expect(worker.isAlive).toBe(false);
  });

  it('fails to start on a scene it cannot render, with the reason', async () => {
    const e = await workerError(BlenderTileWorker.start(broken, { blenderPath: BLENDER }));
    expect(e.code).toBe('START_FAILED');
    expect(e.message).toMatch(/no active camera/);
  });

  it("refuses a scene that would read the node's own files, unless allowed", async () => {
    const [refused, allowed, info] = await Promise.all([
      workerError(BlenderTileWorker.start(external, { blenderPath: BLENDER })),
      BlenderTileWorker.start(external, { blenderPath: BLENDER, allowExternalFiles: true }),
      inspectScene(external, { blenderPath: BLENDER }),
    ]);
    await allowed.close();
    expect(refused.code).toBe('START_FAILED');
    expect(refused.message).toContain(
      `the scene uses files outside the .blend (pack them into it): ${localImage}`,
    );
    // Blender stored it relative to the .blend when saving, as it does for artists' files.
    expect(info.externalFiles).toEqual(['//private/secret.png']);
    expect(info.missingFiles).toEqual([]);
  });

  it('stops a render that outgrows its memory limit, resident or address space, and says so', async () => {
    // 3000x3000: Blender's full-frame buffers alone take a few hundred MB more than a loaded scene
    const big = await makeTestScene(join(dir, 'big.blend'), {
      width: 3000,
      height: 3000,
      samples: 1,
      frames: 1,
      blenderPath: BLENDER,
    });
    const attempt = async (limit: 'maxRssBytes' | 'addressSpaceBytes', bytes: number) => {
      const worker = await BlenderTileWorker.start(big, {
        blenderPath: BLENDER,
        threads: 1,
        [limit]: bytes,
      });
      const e = await workerError(
        worker.render({
          frame: 1,
          region: { x: 0, y: 0, width: 3000, height: 3000 },
          out: join(dir, `big-${limit}.png`),
        }),
      );
      expect(worker.isAlive).toBe(false);
      return e;
    };
    const [resident, addressSpace] = await Promise.all([
      attempt('maxRssBytes', 400 * 2 ** 20), // the agent's watchdog
      attempt('addressSpaceBytes', 1100 * 2 ** 20), // prlimit --as: the allocation fails
    ]);
    expect(resident.code).toBe('MEMORY_LIMIT');
    expect(resident.message).toMatch(/exceeded the memory limit of 419430400 bytes/);
    expect(addressSpace.code).toBe('MEMORY_LIMIT');
    expect(addressSpace.message).toMatch(/ran out of memory under the limit of 1153433600 bytes/);
  });

  it('enforces a resident memory limit', async () => {
    const e = await workerError(
      BlenderTileWorker.start(scene, { blenderPath: BLENDER, maxRssBytes: 20 * 1024 * 1024 }),
    );
    expect(e.code).toBe('MEMORY_LIMIT');
  });
});
