// Test-side helpers around a local farm: API keys in the test database, direct Blender renders
// to compare against, and process cleanup.
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { issueApiKey } from '../../apps/coordinator/src/auth/api-key';
import { AuthRepository } from '../../apps/coordinator/src/auth/auth.repository';
import { loadConfig } from '../../apps/coordinator/src/config/config';
import { PrismaService } from '../../apps/coordinator/src/prisma/prisma.service';

export function testPrisma(): PrismaService {
  return new PrismaService(loadConfig({ ...process.env, NODE_ENV: 'test' }));
}

/**
 * The e2e files share one database but each starts its own coordinator and storage: jobs another
 * file left unfinished would be leased to this file's agents, whose storage lacks their scenes.
 */
export async function quietFarm(): Promise<void> {
  const prisma = testPrisma();
  try {
    await prisma.job.updateMany({
      where: { status: { in: ['PLANNING', 'RENDERING'] } },
      data: { status: 'CANCELLED' },
    });
  } finally {
    await prisma.$disconnect();
  }
}

export async function createApiKey(name = 'test', opts: { admin?: boolean } = {}): Promise<string> {
  const prisma = testPrisma();
  try {
    return (await issueApiKey(new AuthRepository(prisma), name, opts)).secret;
  } finally {
    await prisma.$disconnect();
  }
}

/** Renders frame `frame` the plain way: `blender -b scene -o ... -f N`; returns the PNG path. */
export async function renderDirect(blend: string, frame: number, outDir: string): Promise<string> {
  await promisify(execFile)(
    process.env.BLENDER_PATH ?? 'blender',
    [
      '-b',
      blend,
      '--factory-startup',
      '-Y',
      '-o',
      join(outDir, 'direct_####'),
      '-F',
      'PNG',
      '-f',
      String(frame),
    ],
    { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
  );
  const name = (await readdir(outDir)).find(
    (f) => f === `direct_${String(frame).padStart(4, '0')}.png`,
  );
  if (!name) throw new Error(`blender wrote no frame ${frame} in ${outDir}`);
  return join(outDir, name);
}

/** Decoded RGBA pixels, to compare images exactly regardless of PNG encoding choices. */
export async function rgba(image: Buffer | string) {
  const { data, info } = await sharp(image)
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
