// The Blender add-on's zip, and the unit tests of its Python client (plain python3, no Blender).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';
import { ADDON_SOURCE, buildAddonZip } from './build-addon';
import { repoRoot } from './lib/repo-root';

describe('add-on zip', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'tessera-addon-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds the package folder with every source file, byte for byte', () => {
    const { path, version, files } = buildAddonZip(join(dir, 'addon.zip'));
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    const entries = unzipSync(readFileSync(path));
    expect(Object.keys(entries).sort()).toEqual(files.map((f) => `tessera/${f}`));
    for (const required of ['__init__.py', 'client.py', 'pack_copy.py', 'blender_manifest.toml']) {
      expect(files).toContain(required);
    }
    for (const f of files) {
      expect(Buffer.from(entries[`tessera/${f}`]).equals(readFileSync(join(ADDON_SOURCE, f)))).toBe(
        true,
      );
    }
    expect(files.some((f) => f.includes('__pycache__') || f.endsWith('.pyc'))).toBe(false);
  });

  it('gives the same bytes for the same sources', () => {
    const a = readFileSync(buildAddonZip(join(dir, 'a.zip')).path);
    const b = readFileSync(buildAddonZip(join(dir, 'b.zip')).path);
    expect(a.equals(b)).toBe(true);
  });
});

describe('add-on client (python3 -m unittest)', () => {
  it('passes its Python unit tests', async () => {
    const testsDir = join(repoRoot(), 'blender-scripts', 'addon', 'tests');
    let output: string;
    try {
      const { stderr } = await promisify(execFile)(
        process.env.PYTHON ?? 'python3',
        ['-m', 'unittest', 'discover', '-v', '-s', testsDir],
        { timeout: 60_000, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } },
      );
      output = stderr;
    } catch (e) {
      const err = e as Error & { stderr?: string; stdout?: string };
      throw new Error(
        `python unit tests failed:\n${err.stderr ?? ''}${err.stdout ?? err.message}`,
        {
          cause: e,
        },
      );
    }
    // unittest prints its summary on stderr: make sure tests ran, not just that nothing failed.
    const ran = /Ran (\d+) tests?/.exec(output);
    expect(Number(ran?.[1] ?? 0)).toBeGreaterThanOrEqual(15);
    expect(output).toMatch(/\nOK\s*$/);
  });
});
