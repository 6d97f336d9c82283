import { Wallet } from 'ethers';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The node's Ethereum key: its identity and payout address. Kept in a file only its owner can
 * read; created on first start. (An encrypted keystore comes with the operator CLI.)
 */
export async function loadOrCreateNodeKey(path: string): Promise<Wallet> {
  try {
    const hex = (await readFile(path, 'utf8')).trim();
    return new Wallet(hex);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`cannot read node key ${path}: ${(e as Error).message}`, { cause: e });
    }
  }
  const wallet = Wallet.createRandom();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, wallet.privateKey + '\n', { mode: 0o600, flag: 'wx' });
  return new Wallet(wallet.privateKey);
}
