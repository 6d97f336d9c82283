// The Blender add-on end to end: a background Blender installs the add-on from the built zip into
// throw-away user folders, opens a scene whose material samples an external PNG (and which has a
// text object in an external font and a speaker playing an external WAV), and submits it to a real
// coordinator; the stored scene must render the texture without the PNG on disk and hold the PNG,
// the font and the WAV packed, the artist's file must be untouched; once an agent has rendered
// the job, the add-on fetches the frames into the scene's output folder. A scene linking a library
// is made local and packed.
// The panel's other settings (tile size, device requirements, budget, max price) arrive with the
// job and are planned with; that job asks for a GPU, so it is never rendered here.
// Wrong key, wrong URL, an invalid scene, a missing texture: a clear message in Blender and
// nothing created.
import { ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  Coordinator,
  FarmProcess,
  freePort,
  startAgent,
  startCoordinator,
} from '../scripts/lib/local-farm';
import { RequesterClient } from '../scripts/lib/requester-client';
import { buildAddonZip } from '../scripts/build-addon';
import { makeTestScene } from '@tessera/blender';
import { createApiKey, quietFarm, renderDirect, rgba, testPrisma } from './support/farm';
import { cleanupTmpDirs, tmpDir, uniqueQueuePrefix } from './support/test-env';

jest.setTimeout(300_000);

beforeAll(() => quietFarm());

const BLENDER = process.env.BLENDER_PATH || 'blender';
const DRIVER = join(__dirname, 'support', 'addon_driver.py');
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

let zip: string;
let sceneDir: string;
let scene: string;
let coordinator: Coordinator;
let storageDir: string;
let apiKey: string;
const processes: FarmProcess[] = [];

interface StepResult {
  do: string;
  ok: boolean;
  error?: string;
  crash?: string;
  [key: string]: unknown;
}

/** One Blender session running the driver's steps; results can be read while it runs. */
class BlenderSession {
  readonly proc: ChildProcess;
  readonly output: string[] = [];
  private readonly outFile: string;
  private readonly exited: Promise<unknown>;

  constructor(steps: Record<string, unknown>[]) {
    const dir = tmpDir('tessera-addon-blender-');
    const stepsFile = join(dir, 'steps.json');
    this.outFile = join(dir, 'out.json');
    writeFileSync(stepsFile, JSON.stringify(steps));
    this.proc = spawn(
      BLENDER,
      [
        '-b',
        '--factory-startup',
        '-Y',
        '--python-exit-code',
        '1',
        '--python',
        DRIVER,
        '--',
        stepsFile,
        this.outFile,
      ],
      {
        // The add-on is installed into these, never into the developer's own Blender folders.
        env: {
          ...process.env,
          BLENDER_USER_SCRIPTS: join(dir, 'scripts'),
          BLENDER_USER_CONFIG: join(dir, 'config'),
          BLENDER_USER_DATAFILES: join(dir, 'datafiles'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const collect = (chunk: Buffer) => this.output.push(...chunk.toString().split('\n'));
    this.proc.stdout!.on('data', collect);
    this.proc.stderr!.on('data', collect);
    this.exited = once(this.proc, 'exit');
  }

  results(): StepResult[] {
    return existsSync(this.outFile) ? JSON.parse(readFileSync(this.outFile, 'utf8')) : [];
  }

  /** Waits until the step `index` has a result. */
  async step(index: number, timeoutMs = 120_000): Promise<StepResult> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.results();
      if (r.length > index) return r[index];
      if (this.proc.exitCode !== null || Date.now() > deadline) {
        throw new Error(`Blender gave no result for step ${index}:\n${this.tail()}`);
      }
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  async finish(timeoutMs = 120_000): Promise<StepResult[]> {
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
    if (this.proc.exitCode !== 0) {
      throw new Error(`Blender exited with ${this.proc.exitCode}:\n${this.tail()}`);
    }
    const results = this.results();
    const crashed = results.find((r) => r.crash);
    if (crashed) throw new Error(`driver step ${crashed.do} crashed: ${crashed.crash}`);
    return results;
  }

  tail(): string {
    return this.output.slice(-40).join('\n');
  }
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Pixels that are clearly the texture's pure green (the scene has nothing else that green). */
async function greenPixels(png: string): Promise<number> {
  const { data } = await rgba(png);
  let n = 0;
  for (let i = 0; i < data.length; i += 4) {
    const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
    if (g > 60 && g > 2 * r && g > 2 * b) n++;
  }
  return n;
}

/** The job's scene as the coordinator stored it, copied into a folder of its own. */
async function storedScene(jobId: string): Promise<string> {
  const prisma = testPrisma();
  try {
    const job = await prisma.job.findUniqueOrThrow({
      where: { id: jobId },
      include: { scene: true },
    });
    const copy = join(tmpDir(), 'stored.blend');
    copyFileSync(join(storageDir, ...job.scene.storageKey.split('/')), copy);
    return copy;
  } finally {
    await prisma.$disconnect();
  }
}

async function counts() {
  const prisma = testPrisma();
  try {
    return {
      jobs: await prisma.job.count(),
      scenes: await prisma.scene.count(),
      stored: existsSync(join(storageDir, 'scenes'))
        ? readdirSync(join(storageDir, 'scenes')).sort()
        : [],
    };
  } finally {
    await prisma.$disconnect();
  }
}

beforeAll(async () => {
  zip = buildAddonZip(join(tmpDir(), 'tessera-blender-addon.zip')).path;
  sceneDir = tmpDir('tessera-addon-scene-');
  mkdirSync(join(sceneDir, 'tex'));
  await sharp({
    create: { width: 8, height: 8, channels: 3, background: { r: 0, g: 255, b: 0 } },
  })
    .png()
    .toFile(join(sceneDir, 'tex', 'green.png'));
  // Cycles, 128x72, 4 samples, denoise off, dither 0; the cube samples //tex/green.png.
  scene = await makeTestScene(join(sceneDir, 'shot.blend'), {
    blenderPath: BLENDER,
    width: 128,
    height: 72,
    samples: 4,
    frames: 3,
    externalImage: '//tex/green.png',
  });
  // Fonts and sounds are packed too: a text object set in an external font (Debian's Blender
  // depends on fonts-dejavu) and a speaker playing an external WAV the driver writes.
  mkdirSync(join(sceneDir, 'media'));
  copyFileSync(FONT, join(sceneDir, 'media', 'caption.ttf'));
  const [, media] = await new BlenderSession([
    { do: 'open', blend: scene },
    { do: 'addFontAndSound', font: '//media/caption.ttf', sound: '//media/beep.wav' },
  ]).finish();
  expect(media).toMatchObject({
    ok: true,
    fonts: ['//media/caption.ttf'],
    sounds: ['//media/beep.wav'],
  });
  storageDir = tmpDir();
  coordinator = await startCoordinator({
    QUEUE_PREFIX: uniqueQueuePrefix('addon'),
    STORAGE_DRIVER: 'fs',
    STORAGE_DIR: storageDir,
    NODE_ENV: 'test',
  });
  processes.push(coordinator);
  apiKey = await createApiKey('addon');
});

afterAll(async () => {
  for (const p of processes.reverse()) await p.stop();
  cleanupTmpDirs();
});

test('submits a packed copy from Blender, then fetches the rendered frames', async () => {
  const flag = join(tmpDir(), 'job-done');
  const linkedDir = tmpDir('tessera-addon-linked-');
  const sceneBytes = readFileSync(scene);
  const session = new BlenderSession([
    { do: 'install', zip },
    { do: 'prefs', url: coordinator.url, key: apiKey },
    { do: 'open', blend: scene },
    { do: 'edit', frameEnd: 5 }, // unsaved: on disk the scene ends at frame 3
    {
      do: 'configure',
      settings: {
        use_scene_range: false,
        frame_start: 1,
        frame_end: 2,
        tiling: 'grid',
        tiles_x: 2,
        tiles_y: 1,
        overlap: 4,
        use_samples: true,
        samples: 3,
        verification: 'off',
      },
    },
    { do: 'submit' },
    { do: 'waitForFile', path: flag, timeoutS: 240 },
    { do: 'fetch', frames: [1, 2] },
    {
      do: 'naming',
      patterns: [
        '//frames/frame_####',
        '//out/',
        '//shot_##_v2',
        '//a#/b',
        '//x.jpg',
        '//f.',
        '//f_####.exr',
      ],
      frames: [1, 12, 123456, -3],
    },
    // The cube (with its material and external texture) linked from another .blend.
    { do: 'open', blend: scene },
    { do: 'linkFrom', library: scene, object: 'Cube', save: join(linkedDir, 'linked.blend') },
    { do: 'submit' },
  ]);
  try {
    const submitted = await session.step(5, 180_000);
    expect(submitted.error).toBeUndefined();
    expect(submitted.ok).toBe(true);
    const jobId = submitted.jobId as string;
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
    // The artist's file, its unsaved-changes flag and its (external) image are as they were.
    expect(submitted.before).toEqual(submitted.after);
    expect((submitted.after as { isDirty: boolean }).isDirty).toBe(true);
    expect(readFileSync(scene).equals(sceneBytes)).toBe(true);
    expect(submitted.externalImages).toEqual(['Texture']);
    expect(submitted.packedImages).toEqual([]);

    // The job exists with the settings chosen in the panel.
    const client = new RequesterClient(coordinator.url, apiKey);
    const job = await client.job(jobId);
    expect(job.settings).toMatchObject({
      frameStart: 1,
      frameEnd: 2,
      tilesX: 2,
      tilesY: 1,
      overlap: 4,
      samples: 3,
      verification: 'off',
    });
    expect(job.progress.frames.total).toBe(2);
    expect(job.progress.tiles.total).toBe(4);
    // What was sent is the session's scene, unsaved edit included.
    expect((job.scene as { frameEnd: number }).frameEnd).toBe(5);

    // The stored scene carries the texture: rendered where the PNG no longer exists, the cube is
    // green; the artist's own file, rendered the same way, has lost it (the check can fail).
    const prisma = testPrisma();
    const stored = await prisma.job
      .findUniqueOrThrow({ where: { id: jobId }, include: { scene: true } })
      .finally(() => prisma.$disconnect());
    const away = tmpDir();
    copyFileSync(
      join(storageDir, ...stored.scene.storageKey.split('/')),
      join(away, 'stored.blend'),
    );
    const digests = {
      texture: sha256(join(sceneDir, 'tex', 'green.png')),
      font: sha256(join(sceneDir, 'media', 'caption.ttf')),
      sound: sha256(join(sceneDir, 'media', 'beep.wav')),
    };
    renameSync(join(sceneDir, 'tex'), join(sceneDir, 'tex-away'));
    renameSync(join(sceneDir, 'media'), join(sceneDir, 'media-away'));
    try {
      const fromStored = await renderDirect(join(away, 'stored.blend'), 1, tmpDir());
      const fromOriginal = await renderDirect(scene, 1, tmpDir());
      expect(await greenPixels(fromStored)).toBeGreaterThan(100);
      expect(await greenPixels(fromOriginal)).toBe(0);
      // The font and the sound are packed as well, byte for byte; in the artist's file, none is.
      const files = await new BlenderSession([
        { do: 'open', blend: join(away, 'stored.blend') },
        { do: 'packedFiles' },
        { do: 'open', blend: scene },
        { do: 'packedFiles' },
      ]).finish();
      const packed = (step: StepResult) =>
        Object.fromEntries(
          Object.entries(step.files as Record<string, { packedSha256: string | null }>).map(
            ([name, f]) => [name, f.packedSha256],
          ),
        );
      expect(packed(files[1])).toEqual({
        'image Texture': digests.texture,
        'font DejaVu Sans Book': digests.font,
        'sound beep.wav': digests.sound,
      });
      expect(packed(files[3])).toEqual({
        'image Texture': null,
        'font DejaVu Sans Book': null,
        'sound beep.wav': null,
      });
    } finally {
      renameSync(join(sceneDir, 'tex-away'), join(sceneDir, 'tex'));
      renameSync(join(sceneDir, 'media-away'), join(sceneDir, 'media'));
    }

    // An agent renders the job; then the add-on fetches the frames.
    const agentDir = tmpDir();
    processes.push(
      startAgent(coordinator.url, {
        TESSERA_NODE_KEY: join(agentDir, 'node.key'),
        TESSERA_WORK_DIR: join(agentDir, 'work'),
        TESSERA_THREADS: '1',
        TESSERA_POLL_WAIT_MS: '5000',
      }),
    );
    const done = await client.waitForJob(jobId, { timeoutMs: 180_000 });
    expect(done.status).toBe('COMPLETED');
    await processes.pop()!.stop(); // the next job only needs to be stored, not rendered
    await writeFile(flag, 'done');

    const results = await session.finish();
    const fetched = results[7];
    expect(fetched.error).toBeUndefined();
    expect(fetched.ok).toBe(true);
    // Blender's own names for the scene's output path (//frames/frame_####), filled with the
    // coordinator's frames byte for byte.
    const framePaths = fetched.framePaths as Record<string, string>;
    for (const frame of [1, 2]) {
      const expected = join(sceneDir, 'frames', `frame_000${frame}.png`);
      expect(framePaths[frame]).toBe(expected);
      expect(readFileSync(expected).equals(await client.frame(jobId, frame))).toBe(true);
    }
    expect(readdirSync(join(sceneDir, 'frames')).sort()).toEqual([
      'frame_0001.png',
      'frame_0002.png',
    ]);
    expect(await greenPixels(join(sceneDir, 'frames', 'frame_0001.png'))).toBeGreaterThan(100);

    const naming = results[8];
    expect(naming.mismatches).toEqual([]);
    expect(naming.checked).toBe(2 * 7 * 4);

    // A scene that links the textured cube from a library: the add-on makes it local and packs
    // the texture (the coordinator refuses libraries and external files), so the stored scene
    // renders the green cube with neither the library nor the PNG reachable.
    const linking = results[11];
    expect(results[10].linked).toEqual(['Cube', 'Texture']);
    expect(linking.error).toBeUndefined();
    expect(linking.ok).toBe(true);
    expect(linking.jobId).toMatch(/^[0-9a-f-]{36}$/);
    expect(linking.jobId).not.toBe(jobId);
    const storedLinked = await storedScene(linking.jobId as string);
    renameSync(scene, `${scene}.away`);
    renameSync(join(sceneDir, 'tex'), join(sceneDir, 'tex-away'));
    try {
      expect(await greenPixels(await renderDirect(storedLinked, 1, tmpDir()))).toBeGreaterThan(100);
    } finally {
      renameSync(`${scene}.away`, scene);
      renameSync(join(sceneDir, 'tex-away'), join(sceneDir, 'tex'));
    }
  } catch (e) {
    console.error(`--- blender\n${session.tail()}`);
    for (const p of processes) console.error(`--- ${p.name}\n${p.output.slice(-30).join('\n')}`);
    throw e;
  } finally {
    session.proc.kill('SIGKILL');
  }
});

test('tile size, device requirements, budget and max price set in the panel arrive with the job', async () => {
  // No test agent has a GPU, so this job never renders: what is checked is that the coordinator
  // took the settings (stored, planned with them, not refused) from the panel's submission.
  const budgetWei = '3000000000000000';
  const maxPriceWei = '2000000000000'; // not the coordinator's DEFAULT_PRICE_WEI (10^12)
  const session = new BlenderSession([
    { do: 'install', zip },
    { do: 'prefs', url: coordinator.url, key: apiKey },
    { do: 'open', blend: scene },
    {
      do: 'configure',
      settings: {
        tiling: 'size',
        tile_width: 48,
        tile_height: 40,
        overlap: 2,
        verification: 'light',
        device: 'gpu',
        min_vram_mb: 2048,
        min_blender_version: '3.4',
        budget_wei: budgetWei,
        max_price_wei: maxPriceWei,
      },
    },
    { do: 'submit' },
  ]);
  const submitted = (await session.finish())[4];
  expect(submitted.error).toBeUndefined();
  expect(submitted.ok).toBe(true);
  const jobId = submitted.jobId as string;
  expect(jobId).toMatch(/^[0-9a-f-]{36}$/);

  const client = new RequesterClient(coordinator.url, apiKey);
  let job = await client.job(jobId);
  const deadline = Date.now() + 120_000;
  while (job.status === 'PLANNING' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    job = await client.job(jobId);
  }
  expect(job.error).toBeNull();
  expect(job.status).toBe('RENDERING');
  // The scene's own range (the panel's default), tiles of at most 48x40 instead of a grid.
  expect(job.settings).toEqual({
    frameStart: 1,
    frameEnd: 3,
    frameStep: 1,
    tileWidth: 48,
    tileHeight: 40,
    overlap: 2,
    samples: null,
    format: 'png',
    verification: 'light',
    device: 'gpu',
    minVramMb: 2048,
    minBlenderVersion: '3.4',
    budgetWei,
    maxPriceWei,
  });
  // 128x72 in tiles of at most 48x40: 3 across, 2 down, on each of the 3 frames.
  expect(job.progress.tiles.total).toBe(3 * 2 * 3);
  expect(
    job.frames[0].tiles.map((t) => [t.x, t.y]).sort((a, b) => a[1] - b[1] || a[0] - b[0]),
  ).toEqual([
    [0, 0],
    [1, 0],
    [2, 0],
    [0, 1],
    [1, 1],
    [2, 1],
  ]);
  // Priced at the max price, the budget is the deposit (a chainless farm charges nothing).
  expect(job.payment).toMatchObject({
    state: 'NONE',
    priceWei: maxPriceWei,
    budgetWei,
    depositWei: budgetWei,
  });
});

test('wrong key, wrong URL, invalid scene, missing texture: clear messages, nothing created', async () => {
  const noCamera = await makeTestScene(join(tmpDir(), 'no-camera.blend'), {
    blenderPath: BLENDER,
    width: 64,
    height: 36,
    samples: 4,
    frames: 1,
    noCamera: true,
  });
  const missingDir = tmpDir();
  const missingImage = await makeTestScene(join(missingDir, 'missing-image.blend'), {
    blenderPath: BLENDER,
    width: 64,
    height: 36,
    samples: 4,
    frames: 1,
    missingImage: true,
  });
  const before = await counts();
  const session = new BlenderSession([
    { do: 'install', zip },
    { do: 'open', blend: scene },
    { do: 'prefs', url: coordinator.url, key: 'tsk_this_key_does_not_exist' },
    { do: 'submit' },
    { do: 'prefs', url: `http://127.0.0.1:${await freePort()}`, key: apiKey },
    { do: 'submit' },
    { do: 'prefs', url: coordinator.url, key: apiKey },
    { do: 'open', blend: noCamera },
    { do: 'submit' },
    { do: 'open', blend: missingImage },
    { do: 'submit' },
  ]);
  const results = await session.finish();
  const [wrongKey, wrongUrl, invalidScene, missingFile] = [
    results[3],
    results[5],
    results[8],
    results[10],
  ];

  expect(wrongKey.ok).toBe(false);
  expect(wrongKey.error).toMatch(/rejected the API key \(unknown or revoked API key\)/);
  expect(wrongKey.jobId).toBe('');
  expect(wrongUrl.ok).toBe(false);
  expect(wrongUrl.error).toMatch(
    /Nothing answers at http:\/\/127\.0\.0\.1:\d+ \(connection refused\)/,
  );
  expect(invalidScene.ok).toBe(false);
  expect(invalidScene.error).toMatch(/cannot render this scene: .*camera/i);
  expect(invalidScene.jobId).toBe('');
  // Found while packing, before anything is uploaded; named by its real path, not the copy's.
  expect(missingFile.ok).toBe(false);
  expect(missingFile.error).toContain(
    `cannot be sent: missing file ${join(missingDir, 'textures', 'does_not_exist.png')}`,
  );

  expect(await counts()).toEqual(before);
});
