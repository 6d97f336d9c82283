// The reproducibility proof: the committed artifact is exactly what the committed source compiles
// to with the pinned solc-js and settings (scripts/compile-contracts.ts). The file's formatting is
// prettier's (checked by `npm run lint`); the content is compared here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESCROW_ARTIFACT, buildEscrowArtifact } from '../../../scripts/compile-contracts';
import { repoRoot } from '../../../scripts/lib/repo-root';

describe('TesseraEscrow artifact', () => {
  it('equals a fresh compilation of contracts/escrow/TesseraEscrow.sol', () => {
    const root = repoRoot(__dirname);
    const committed = readFileSync(join(root, ESCROW_ARTIFACT), 'utf8');
    const fresh = buildEscrowArtifact(root);
    expect(JSON.parse(committed)).toEqual(fresh);
    expect(fresh.bytecode).toMatch(/^0x[0-9a-f]{2000,}$/);
  }, 60_000);
});
