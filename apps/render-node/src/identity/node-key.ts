import { encryptKeystoreJson, HDNodeWallet, Wallet } from 'ethers';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The node's Ethereum key: its identity and payout address. `render-node init` stores it as an
 * encrypted keystore (ethers' scrypt JSON). A plain hex key file, as earlier versions and the
 * demo write it, is still accepted; `init --import` turns one into a keystore.
 */
export class NodeKeyError extends Error {
  override readonly name = 'NodeKeyError';
}

export type KeyFileKind = 'keystore' | 'plain' | 'missing';

const HEX_KEY = /^(0x)?[0-9a-fA-F]{64}$/;

export async function keyFileKind(path: string): Promise<KeyFileKind> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw new NodeKeyError(`cannot read node key ${path}: ${(e as Error).message}`);
  }
  if (HEX_KEY.test(text)) return 'plain';
  if (text.startsWith('{')) return 'keystore';
  throw new NodeKeyError(`${path} is neither a keystore nor a hex private key`);
}

/** Loads the key; `password` is asked for only when the file is a keystore. */
export async function loadNodeKey(
  path: string,
  password: () => Promise<string>,
): Promise<Wallet | HDNodeWallet> {
  const kind = await keyFileKind(path);
  if (kind === 'missing') {
    throw new NodeKeyError(`no node key at ${path}: run "render-node init" first`);
  }
  const text = (await readFile(path, 'utf8')).trim();
  if (kind === 'plain') return new Wallet(text.startsWith('0x') ? text : `0x${text}`);
  try {
    return await Wallet.fromEncryptedJson(text, await password());
  } catch (e) {
    const message = (e as Error).message;
    throw new NodeKeyError(
      /password/i.test(message)
        ? `wrong password for the keystore ${path}`
        : `cannot open the keystore ${path}: ${message}`,
    );
  }
}

/** Writes an encrypted keystore (mode 0600); refuses to replace an existing key unless told. */
export async function writeKeystore(
  path: string,
  wallet: Wallet | HDNodeWallet,
  password: string,
  opts: { overwrite?: boolean; scryptN?: number } = {},
): Promise<void> {
  if (password.length < 8)
    throw new NodeKeyError('the keystore password needs at least 8 characters');
  const json = await encryptKeystoreJson(
    { address: wallet.address, privateKey: wallet.privateKey },
    password,
    opts.scryptN ? { scrypt: { N: opts.scryptN } } : {},
  );
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    await writeFile(path, json + '\n', { mode: 0o600, flag: opts.overwrite ? 'w' : 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new NodeKeyError(`${path} already holds a key (pass --force to replace it)`);
    }
    throw e;
  }
}

/**
 * Legacy start-up (npm run render-node, the demo and tests): a missing key file is created as a
 * plain hex key. Operators use `render-node init`, which writes a keystore.
 */
export async function loadOrCreatePlainNodeKey(
  path: string,
  password: () => Promise<string>,
): Promise<Wallet | HDNodeWallet> {
  if ((await keyFileKind(path)) !== 'missing') return loadNodeKey(path, password);
  const wallet = Wallet.createRandom();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, wallet.privateKey + '\n', { mode: 0o600, flag: 'wx' });
  return new Wallet(wallet.privateKey);
}
