import { getAddress } from 'ethers';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentConfig } from '../../config/agent-config';
import { keyFileKind } from '../../identity/node-key';

export interface NodeStatus {
  address: string | null;
  key: string;
  coordinator: { url: string; reachable: boolean; detail: string };
  scenes: { count: number; bytes: number };
  /** finished renders not yet accepted by the coordinator (reported at the next start) */
  pendingResults: number;
  benchmark: unknown;
}

/** What this node is and holds, without unlocking its key. */
export async function readStatus(config: AgentConfig): Promise<NodeStatus> {
  let address: string | null = null;
  let key: string;
  try {
    key = await keyFileKind(config.keyFile);
    if (key === 'keystore') {
      const json = JSON.parse(await readFile(config.keyFile, 'utf8')) as { address?: string };
      address = json.address ? getAddress(`0x${json.address.replace(/^0x/, '')}`) : null;
    } else if (key === 'plain') {
      const { Wallet } = await import('ethers');
      const hex = (await readFile(config.keyFile, 'utf8')).trim();
      address = new Wallet(hex.startsWith('0x') ? hex : `0x${hex}`).address;
    }
  } catch (e) {
    key = (e as Error).message;
  }
  let reachable = false;
  let detail: string;
  try {
    const res = await fetch(`${config.coordinator}/api/v1/health`, {
      signal: AbortSignal.timeout(5000),
    });
    reachable = res.ok;
    detail = `HTTP ${res.status}`;
  } catch (e) {
    detail = (e as Error).message;
  }
  const scenesDir = join(config.workDir, 'scenes');
  const sceneFiles = (await readdir(scenesDir).catch(() => [] as string[])).filter((f) =>
    f.endsWith('.blend'),
  );
  let bytes = 0;
  for (const f of sceneFiles)
    bytes += (await stat(join(scenesDir, f)).catch(() => ({ size: 0 }))).size;
  const pending = (
    await readdir(join(config.workDir, 'results')).catch(() => [] as string[])
  ).filter((f) => f.endsWith('.png.json')).length;
  const benchmark = await readFile(join(config.workDir, 'benchmark.json'), 'utf8')
    .then((t) => JSON.parse(t) as unknown)
    .catch(() => null);
  return {
    address,
    key,
    coordinator: { url: config.coordinator, reachable, detail },
    scenes: { count: sceneFiles.length, bytes },
    pendingResults: pending,
    benchmark,
  };
}
