import { TRUSTED_SCORE } from './reputation';
import { DEFAULT_POLICY, POLICIES } from './sampling';
import { expectedTilesToTrust } from './trust-curve';

describe('expectedTilesToTrust', () => {
  it('takes an honest node thousands of tiles and hundreds of passed checks to become trusted', () => {
    const t = expectedTilesToTrust(TRUSTED_SCORE);
    expect(t.tiles).toBeGreaterThan(2000);
    expect(t.tiles).toBeLessThan(4000);
    expect(t.verifiedTiles).toBeGreaterThan(350);
    expect(t.verifiedTiles + 0.02 * t.overlapAgreements).toBeGreaterThanOrEqual(450);
    expect(expectedTilesToTrust(0.5).tiles).toBeLessThan(150);
  });

  it('takes longer for higher targets, after a failure, and without overlaps', () => {
    const base = expectedTilesToTrust(0.8).tiles;
    expect(expectedTilesToTrust(0.9).tiles).toBeGreaterThan(base);
    expect(expectedTilesToTrust(0.8, DEFAULT_POLICY, { failedChecks: 1 }).tiles).toBeGreaterThan(
      base,
    );
    expect(expectedTilesToTrust(0.8, DEFAULT_POLICY, { overlapCoverage: 0 }).tiles).toBeGreaterThan(
      base,
    );
    // a paranoid job checks more, so trust accrues faster per tile
    expect(expectedTilesToTrust(0.8, POLICIES.paranoid).tiles).toBeLessThan(base);
    expect(expectedTilesToTrust(0).tiles).toBe(0);
  });
});
