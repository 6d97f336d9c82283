// The cheat catalogue: each entry changes one behaviour of a real render-node agent, the way a
// dishonest operator would, to show that verification catches it.
import { Agent, RenderTweaks } from '../../apps/render-node/src/agent/agent';
import { CoordinatorClient } from '../../apps/render-node/src/coordinator/coordinator-client';
import type { Signer } from 'ethers';
import { copyFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { LeaseGrant } from '@tessera/protocol';
import type { PrismaService } from '../../apps/coordinator/src/prisma/prisma.service';
import { tmpDir } from './test-env';

export interface CheatContext {
  /** the job's overlap margin, which a margin-aware cheater knows */
  overlap: number;
  /** the scene's sample count */
  samples: number;
  /** full-frame renders of the shot from earlier work, by frame: what a replaying cheater keeps */
  earlierRenders: Map<number, string>;
}

async function rewrite(
  file: string,
  make: (img: ReturnType<typeof sharp>, w: number, h: number) => Promise<Buffer>,
) {
  const meta = await sharp(file).metadata();
  const out = await make(sharp(file), meta.width!, meta.height!);
  await sharp(out).png().toFile(`${file}.tmp.png`);
  await copyFile(`${file}.tmp.png`, file);
}

const solid = (w: number, h: number, colour: string) =>
  sharp({ create: { width: w, height: h, channels: 4, background: colour } });

function randomNoise(w: number, h: number): Promise<Buffer> {
  const data = Buffer.alloc(w * h * 4);
  for (let i = 0; i < data.length; i++)
    data[i] = i % 4 === 3 ? 255 : Math.floor(Math.random() * 256);
  return sharp(data, { raw: { width: w, height: h, channels: 4 } })
    .png()
    .toBuffer();
}

/** The interior a margin-aware cheater fakes: everything but the strips neighbours also render. */
function interior(lease: LeaseGrant, overlap: number) {
  const r = lease.region;
  const strip = 2 * overlap;
  const left = r.x > 0 ? strip : 0;
  const top = r.y > 0 ? strip : 0;
  const right = r.x + r.width < lease.resolution.width ? strip : 0;
  const bottom = r.y + r.height < lease.resolution.height ? strip : 0;
  return { left, top, width: r.width - left - right, height: r.height - top - bottom };
}

export function cheatCatalogue(ctx: CheatContext): Record<string, RenderTweaks> {
  return {
    'black tile': {
      tile: (f) => rewrite(f, async (_, w, h) => solid(w, h, '#000000ff').png().toBuffer()),
    },
    'random noise': { tile: (f) => rewrite(f, async (_, w, h) => randomNoise(w, h)) },
    '1/8 of the samples': {
      request: (req) => ({
        ...req,
        samples: Math.max(1, Math.floor((req.samples ?? ctx.samples) / 8)),
      }),
    },
    'the wrong frame': {
      request: (req) => ({ ...req, frame: req.frame === 1 ? 2 : req.frame - 1 }),
    },
    '25% resolution upscaled': {
      tile: (f) =>
        rewrite(f, async (img, w, h) => {
          const small = await img
            .resize(Math.max(1, Math.round(w / 4)), Math.max(1, Math.round(h / 4)))
            .toBuffer();
          return sharp(small).resize(w, h, { kernel: 'linear' }).png().toBuffer();
        }),
    },
    'correct margins, faked interior': {
      tile: (f, lease) =>
        rewrite(f, async (img) => {
          const i = interior(lease, ctx.overlap);
          if (i.width <= 0 || i.height <= 0) return img.png().toBuffer();
          const fake = await solid(i.width, i.height, '#7f7f7fff').png().toBuffer();
          return img
            .composite([{ input: fake, left: i.left, top: i.top }])
            .png()
            .toBuffer();
        }),
    },
    'replay of an earlier result': {
      // Results kept from earlier work on the same shot (another frame), sent again as new work.
      tile: (f, lease) =>
        rewrite(f, async () => {
          const earlier = ctx.earlierRenders.get(lease.frame === 1 ? 2 : lease.frame - 1)!;
          const r = lease.region;
          return sharp(earlier)
            .extract({ left: r.x, top: r.y, width: r.width, height: r.height })
            .png()
            .toBuffer();
        }),
    },
    'correct tile with 10% painted over': {
      tile: (f) =>
        rewrite(f, async (img, w, h) => {
          const side = Math.sqrt(0.1);
          const [pw, ph] = [Math.max(1, Math.round(w * side)), Math.max(1, Math.round(h * side))];
          const patch = await solid(pw, ph, '#ff00ffff').png().toBuffer();
          return img
            .composite([
              { input: patch, left: Math.floor((w - pw) / 2), top: Math.floor((h - ph) / 2) },
            ])
            .png()
            .toBuffer();
        }),
    },
  };
}

export interface Cheater {
  /** stops the agent (giving its leases back) and waits for its loop to end */
  stop(): Promise<void>;
}

/** A cheating node in this process: the real agent with a cheat's tweaks, started at once. */
export function startCheater(
  coordinatorUrl: string,
  wallet: Signer & { address: string },
  tweaks: RenderTweaks,
): Cheater {
  const agent = new Agent(new CoordinatorClient(coordinatorUrl, wallet), {
    workDir: tmpDir(),
    blenderPath: process.env.BLENDER_PATH ?? 'blender',
    threads: 1,
    renderTimeoutMs: 120_000,
    pollWaitMs: 2000,
    log: () => undefined,
    tweaks,
  });
  const running = agent.start().catch(() => undefined);
  return {
    async stop() {
      await agent.stop();
      await running;
    },
  };
}

/** The node row of `address` once it has logged in (so it is first in line for work). */
export async function registeredNode(prisma: PrismaService, address: string) {
  for (let i = 0; i < 100; i++) {
    const found = await prisma.node.findUnique({ where: { address } });
    if (found) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`node ${address} never registered`);
}
