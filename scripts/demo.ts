// `npm run demo`: a whole render on this machine with the embedded defaults. Generates a small
// animated Cycles scene, starts a local EVM chain with the escrow, a coordinator and two staked
// render-node agents, submits and funds the scene as frame x tile shards, shows progress, writes
// the stitched frames to ./out/<job-id>/ and shows what each operator was paid.
import { formatEther } from 'ethers';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { issueApiKey } from '../apps/coordinator/src/auth/api-key';
import { AuthRepository } from '../apps/coordinator/src/auth/auth.repository';
import { loadConfig } from '../apps/coordinator/src/config/config';
import { PrismaService } from '../apps/coordinator/src/prisma/prisma.service';
import { startEmbeddedChain } from './lib/embedded-chain';
import { FarmProcess, startAgent, startCoordinator } from './lib/local-farm';
import { repoRoot } from './lib/repo-root';
import { RequesterClient } from './lib/requester-client';
import { makeTestScene } from '@tessera/blender';

const AGENTS = 2;
const SCENE = { width: 480, height: 270, samples: 24, frames: 6 };
const TILING = { tilesX: 2, tilesY: 2, overlap: 8 };
const STAKE_WEI = 10n ** 17n; // 0.1 ETH of the local chain's play money per operator

async function main() {
  const root = repoRoot();
  const data = join(root, 'data');
  const verbose = process.argv.includes('--verbose');
  const echo = verbose ? (line: string) => console.log(`  ${line}`) : undefined;
  const started = Date.now();
  const processes: FarmProcess[] = [];
  let stopChain = async () => {};
  const cleanup = async () => {
    for (const p of processes.reverse()) await p.stop();
    await stopChain();
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

  try {
    step(`generating a ${SCENE.width}x${SCENE.height}, ${SCENE.frames}-frame Cycles scene`);
    await mkdir(join(data, 'demo'), { recursive: true });
    const scene = await makeTestScene(join(data, 'demo', 'demo.blend'), SCENE);

    step('starting a local EVM chain, deploying the escrow, staking the operators');
    const embedded = await startEmbeddedChain({ operators: AGENTS, stakeWei: STAKE_WEI });
    stopChain = embedded.stop;

    const config = loadConfig({ ...process.env, STORAGE_DIR: join(data, 'storage') });
    step('starting the coordinator');
    const coordinator = await startCoordinator(
      { STORAGE_DIR: config.STORAGE_DIR, NODE_ENV: 'development', ...embedded.env },
      { echo },
    );
    processes.push(coordinator);

    const prisma = new PrismaService(config);
    const key = await issueApiKey(new AuthRepository(prisma), 'demo');
    await prisma.$disconnect();

    step(`starting ${AGENTS} render-node agents (1 Blender thread each)`);
    for (let i = 1; i <= AGENTS; i++) {
      // the operators' keys are the local chain's staked development accounts
      const keyFile = join(data, 'nodes', `node-${i}`, 'node.key');
      await mkdir(join(data, 'nodes', `node-${i}`), { recursive: true });
      await writeFile(keyFile, embedded.operatorKeys[i - 1] + '\n', { mode: 0o600 });
      processes.push(
        startAgent(
          coordinator.url,
          {
            TESSERA_NODE_KEY: keyFile,
            TESSERA_WORK_DIR: join(data, 'nodes', `node-${i}`, 'work'),
            TESSERA_NODE_NAME: `demo-node-${i}`,
            TESSERA_THREADS: '1',
          },
          { name: `node-${i}`, echo },
        ),
      );
    }

    const client = new RequesterClient(coordinator.url, key.secret);
    step(`submitting as ${TILING.tilesX}x${TILING.tilesY} tiles with ${TILING.overlap}px overlap`);
    const submitted = await client.submit(scene, TILING);
    if (submitted.status === 'FAILED') throw new Error(`job rejected: ${submitted.error}`);
    const quote = await client.quote(submitted.id);
    step(
      `funding the escrow: ${formatEther(quote.depositWei)} ETH for ${quote.workUnits.toFixed(3)} ` +
        `work units (verification allowance ${formatEther(quote.verificationWei)} ETH)`,
    );
    await (
      await embedded.escrow
        .connect(embedded.requester)
        .fund(quote.escrow!.jobKey, BigInt(quote.depositWei))
    ).wait();
    const job = await client.waitForJob(submitted.id, {
      timeoutMs: 30 * 60_000,
      intervalMs: 500,
      onProgress: (j) =>
        progress(j.progress.tiles.done, j.progress.tiles.total, j.progress.frames.done),
    });
    process.stdout.write('\n');
    if (job.status !== 'COMPLETED') throw new Error(`job ${job.status}: ${job.error}`);

    const outDir = join(root, 'out', job.id);
    await mkdir(outDir, { recursive: true });
    for (const f of job.frames) {
      await writeFile(
        join(outDir, `frame-${String(f.number).padStart(4, '0')}.png`),
        await client.frame(job.id, f.number),
      );
    }
    step('settling the escrow');
    for (;;) {
      const { payment } = await client.job(job.id);
      if (payment.state === 'SETTLED') break;
      if (payment.state === 'FAILED') throw new Error(`settlement failed: ${payment.note}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const ledger = await client.payouts(job.id);
    const tiles = job.frames.flatMap((f) => f.tiles);
    const nodes = new Set(tiles.map((t) => t.nodeId));
    const verdicts = await client.verdicts(job.id);
    const passed = (kind: string) =>
      verdicts.filter((v) => v.kind === kind && v.outcome === 'PASS').length;
    console.log('\nDone.');
    console.log(`  job        ${job.id}`);
    console.log(`  frames     ${job.frames.length} (${SCENE.width}x${SCENE.height})`);
    console.log(`  tiles      ${tiles.length} (${TILING.tilesX}x${TILING.tilesY} per frame)`);
    console.log(`  nodes      ${nodes.size} of ${AGENTS}`);
    console.log(
      `  verified   ${passed('OVERLAP')} overlap strips, ${passed('CROP')} secret crop re-renders, ${passed('RINGER')} ringers agreed; ${verdicts.filter((v) => v.outcome !== 'PASS').length} disputes`,
    );
    for (const e of ledger.entries.filter((e) => e.kind !== 'ACCRUED')) {
      const who = e.kind === 'REFUNDED' ? 'requester' : `operator ${e.address.slice(0, 10)}…`;
      console.log(
        `  ${e.kind.toLowerCase().padEnd(10)} ${formatEther(e.amountWei)} ETH to ${who} (tx ${e.txHash?.slice(0, 12)}…)`,
      );
    }
    console.log(`  wall time  ${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.log(`  output     ${outDir}`);
  } finally {
    await cleanup();
  }
}

function step(text: string) {
  console.log(`> ${text}`);
}

function progress(done: number, total: number, frames: number) {
  const width = 30;
  const filled = total ? Math.round((done / total) * width) : 0;
  process.stdout.write(
    `\r  [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} tiles, ${frames} frames stitched`,
  );
}

main().catch((e: Error) => {
  console.error(`\ndemo failed: ${e.message}`);
  process.exit(1);
});
