import { Wallet } from 'ethers';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyFileKind, loadNodeKey, loadOrCreatePlainNodeKey, writeKeystore } from './node-key';

const dir = mkdtempSync(join(tmpdir(), 'node-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pw = (p: string) => async () => p;
// a cheap scrypt cost keeps the test fast; the CLI uses ethers' default
const fast = { scryptN: 1024 };

describe('node key', () => {
  it('writes an encrypted keystore that opens with its password only', async () => {
    const wallet = Wallet.createRandom();
    const path = join(dir, 'ks.json');
    await writeKeystore(path, wallet, 'correct horse', fast);
    expect(readFileSync(path, 'utf8')).not.toContain(wallet.privateKey.slice(2));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await keyFileKind(path)).toBe('keystore');
    expect((await loadNodeKey(path, pw('correct horse'))).address).toBe(wallet.address);
    await expect(loadNodeKey(path, pw('wrong password'))).rejects.toThrow(
      `wrong password for the keystore ${path}`,
    );
    await expect(writeKeystore(path, wallet, 'correct horse', fast)).rejects.toThrow(
      'already holds a key',
    );
    await expect(writeKeystore(join(dir, 'x.json'), wallet, 'short')).rejects.toThrow(
      '8 characters',
    );
  });

  it('still reads a plain hex key file and creates one for the legacy start', async () => {
    const wallet = Wallet.createRandom();
    const plain = join(dir, 'plain.key');
    writeFileSync(plain, wallet.privateKey.slice(2) + '\n');
    expect((await loadNodeKey(plain, pw('unused'))).address).toBe(wallet.address);
    const created = join(dir, 'sub', 'new.key');
    const first = await loadOrCreatePlainNodeKey(created, pw('unused'));
    expect((await loadOrCreatePlainNodeKey(created, pw('unused'))).address).toBe(first.address);
  });

  it('says what is wrong with a missing or foreign file', async () => {
    await expect(loadNodeKey(join(dir, 'none'), pw(''))).rejects.toThrow('run "render-node init"');
    const junk = join(dir, 'junk');
    writeFileSync(junk, 'hello');
    await expect(keyFileKind(junk)).rejects.toThrow('neither a keystore nor a hex private key');
  });
});
