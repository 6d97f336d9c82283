// The verification fixtures (libs/verification/fixtures, made by scripts/make-fixtures.ts from
// real Blender 3.4.1 renders): honest pairs must match, every cheat must be caught.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PixelRegion } from '@tessera/protocol';
import { decodePng } from '../image/png';
import { frameRegionOfTile, intersectRegions } from '../image/region';
import { hashPixels } from '../image/hash';
import type { RgbaImage } from '../image/rgba-image';
import { compareRenders } from './compare-renders';
import { DEFAULT_TOLERANCES } from './tolerances';
import type { ComparisonCheck, ComparisonMode } from './types';

const DIR = join(__dirname, '..', '..', 'fixtures');

interface Manifest {
  images: Record<
    string,
    {
      file: string;
      frame: number;
      region: PixelRegion;
      render?: { kernel: string; bvh: string; dither: number; threads: number };
      cheat?: { kind: string };
      pixelsSha256: string;
    }
  >;
  comparisons: Array<{
    name: string;
    class: 'honest' | 'cheat';
    check: string;
    kind: string;
    a: string;
    b: string;
    region: PixelRegion;
    expect: { exact: 'match' | 'mismatch'; perceptual: 'match' | 'mismatch' };
    caughtBy?: ComparisonCheck[];
  }>;
}

const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as Manifest;
const images: Record<string, RgbaImage> = {};

beforeAll(async () => {
  for (const [id, img] of Object.entries(manifest.images)) {
    images[id] = await decodePng(readFileSync(join(DIR, img.file)));
  }
});

const regionOf = (id: string, region: PixelRegion) =>
  frameRegionOfTile(images[id], manifest.images[id].region, region);
const compare = (a: string, b: string, region: PixelRegion, mode: ComparisonMode) =>
  compareRenders(regionOf(a, region), regionOf(b, region), { mode });
/** honest renders on the same device class: the CPU AVX2 kernel with Embree, no dither */
const sameClass = (id: string) => {
  const r = manifest.images[id].render;
  return r !== undefined && r.kernel === 'AVX2' && r.bvh === 'EMBREE' && r.dither === 0;
};

const CHEATS = [
  'black',
  'blank',
  'noise',
  'samples-8',
  'wrong-frame',
  'low-res-upscaled',
  'interior-faked',
  'replay-other-tile',
  'replay-earlier-frame',
  'replay-other-seed',
  'painted-10pct',
  'painted-10pct-mean',
];
/** cheats that leave the overlap margins right: only a secret crop or a ringer sees them */
const MARGIN_AWARE = ['interior-faked', 'painted-10pct', 'painted-10pct-mean'];
/** the perceptual check that must catch each cheat in its ringer comparison (the reason) */
const RINGER_REASON: Record<string, ComparisonCheck> = {
  black: 'blockMean',
  blank: 'blockMean',
  noise: 'noise',
  'samples-8': 'noise',
  'wrong-frame': 'blockMean',
  'low-res-upscaled': 'noise',
  'interior-faked': 'blockMean',
  'replay-other-tile': 'blockMean',
  'replay-earlier-frame': 'blockMean',
  'replay-other-seed': 'strongDelta',
  'painted-10pct': 'blockStrongDelta',
  'painted-10pct-mean': 'blockStrongDelta',
};

describe('fixtures', () => {
  it('are what the manifest says: every file decodes to its region, same pixels', () => {
    for (const [id, img] of Object.entries(manifest.images)) {
      expect([id, images[id].width, images[id].height]).toEqual([
        id,
        img.region.width,
        img.region.height,
      ]);
      expect([id, hashPixels(images[id])]).toEqual([id, img.pixelsSha256]);
    }
  });

  it('hold every cheat class of the issue, on the same lease', () => {
    const kinds = Object.values(manifest.images).flatMap((i) => (i.cheat ? [i.cheat.kind] : []));
    expect(kinds.sort()).toEqual([...CHEATS].sort());
  });
});

describe('honest renders', () => {
  const honest = manifest.comparisons.filter((c) => c.class === 'honest');

  it('include thread counts, tile borders and CPU kernel / BVH / dither variants', () => {
    const kinds = new Set(honest.map((c) => c.kind));
    for (const k of [
      'threads',
      'tile-borders',
      'cpu-kernel-sse41',
      'cpu-kernel-sse2',
      'bvh2',
      'dither',
    ]) {
      expect(kinds).toContain(k);
    }
  });

  it.each(honest.map((c) => [c.name, c] as const))('%s: perceptual match', (_n, c) => {
    const r = compare(c.a, c.b, c.region, 'perceptual');
    expect([r.verdict, r.reason]).toEqual(['match', expect.any(String)]);
  });

  it.each(honest.map((c) => [c.name, c] as const))('%s: exact as expected', (_n, c) => {
    const r = compare(c.a, c.b, c.region, 'exact');
    expect(r.verdict).toBe(c.expect.exact);
    // same device class (thread counts, tile borders): bit-identical, always
    if (sameClass(c.a) && sameClass(c.b)) expect(r.verdict).toBe('match');
  });

  it('never fail on >= 500 random sub-regions (secret crops, strips) of honest pairs', () => {
    let state = 12345;
    const rand = (n: number) => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return Math.floor((state / 2 ** 32) * n);
    };
    let comparisons = 0;
    const rejected: string[] = [];
    for (const c of honest) {
      const area = intersectRegions(manifest.images[c.a].region, manifest.images[c.b].region)!;
      for (let i = 0; i < 8; i++) {
        const width = 1 + rand(Math.min(area.width, 48));
        const height = 1 + rand(Math.min(area.height, 48));
        const region = {
          x: area.x + rand(area.width - width + 1),
          y: area.y + rand(area.height - height + 1),
          width,
          height,
        };
        const modes: ComparisonMode[] =
          sameClass(c.a) && sameClass(c.b) ? ['exact', 'perceptual'] : ['perceptual'];
        for (const mode of modes) {
          comparisons++;
          const r = compare(c.a, c.b, region, mode);
          if (r.verdict !== 'match')
            rejected.push(`${c.name} ${JSON.stringify(region)} ${mode}: ${r.reason}`);
        }
      }
    }
    expect(comparisons).toBeGreaterThanOrEqual(500);
    expect(rejected).toEqual([]);
  });
});

describe('cheats', () => {
  const cheats = manifest.comparisons.filter((c) => c.class === 'cheat');

  it.each(CHEATS)('%s: caught by the ringer and the secret crop, in both modes', (kind) => {
    const mine = cheats.filter((c) => c.kind === kind && c.check !== 'overlap');
    expect(mine.map((c) => c.check).sort()).toEqual(['crop', 'ringer', 'ringer']);
    for (const c of mine) {
      for (const mode of ['exact', 'perceptual'] as const) {
        const r = compare(c.a, c.b, c.region, mode);
        expect([c.name, mode, r.verdict]).toEqual([c.name, mode, 'mismatch']);
        expect(r.reason.length).toBeGreaterThan(10);
      }
    }
  });

  it.each(CHEATS)('%s: the ringer comparison gives the reason of its kind', (kind) => {
    for (const c of cheats.filter((x) => x.kind === kind && x.check === 'ringer')) {
      const r = compare(c.a, c.b, c.region, 'perceptual');
      expect(r.failed).toContain(RINGER_REASON[kind]);
      expect(r.failed).toEqual(expect.arrayContaining(c.caughtBy!));
    }
  });

  it.each(CHEATS)('%s: overlap strips catch it unless it kept the margins right', (kind) => {
    for (const c of cheats.filter((x) => x.kind === kind && x.check === 'overlap')) {
      const expected = MARGIN_AWARE.includes(kind) ? 'match' : 'mismatch';
      for (const mode of ['exact', 'perceptual'] as const) {
        expect([c.name, mode, compare(c.a, c.b, c.region, mode).verdict]).toEqual([
          c.name,
          mode,
          expected,
        ]);
      }
    }
  });

  it('an exact replay has the hash of the result it replays', () => {
    const replay = manifest.images['cheat-replay-earlier-frame'];
    expect(replay.pixelsSha256).toBe(manifest.images['f1-A00'].pixelsSha256);
    expect(replay.pixelsSha256).not.toBe(manifest.images['f2-A00'].pixelsSha256);
  });
});

describe('calibration record', () => {
  const cal = JSON.parse(readFileSync(join(DIR, 'calibration.json'), 'utf8')) as {
    tolerances: object;
    honestRenders: number;
    falseRejections: number;
    blender: string;
  };

  it('was measured with the DEFAULT_TOLERANCES in force: >= 500 honest renders, none rejected', () => {
    expect(cal.tolerances).toEqual(DEFAULT_TOLERANCES);
    expect(cal.honestRenders).toBeGreaterThanOrEqual(500);
    expect(cal.falseRejections).toBe(0);
    expect(cal.blender).toBe('3.4.1');
  });
});
