// Builds the installable Blender add-on: `npm run addon` -> dist/tessera-blender-addon.zip.
// The zip holds the package folder tessera/ (Blender's Install add-on wants the folder inside the
// zip), with stable timestamps so the same sources give the same bytes.
import { zipSync, Zippable } from 'fflate';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { repoRoot } from './lib/repo-root';

export const ADDON_SOURCE = join(repoRoot(), 'blender-scripts', 'addon', 'tessera');
export const ADDON_ZIP = join(repoRoot(), 'dist', 'tessera-blender-addon.zip');
const PACKAGE = 'tessera';
const MTIME = new Date('2026-01-01T00:00:00Z');

/** Files of the add-on package, relative to it, without caches. */
export function addonFiles(source = ADDON_SOURCE): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === '__pycache__') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (!entry.name.endsWith('.pyc'))
        files.push(relative(source, path).split(sep).join('/'));
    }
  };
  walk(source);
  return files.sort();
}

/** The version in bl_info and in blender_manifest.toml; they must agree. */
export function addonVersion(source = ADDON_SOURCE): string {
  const init = readFileSync(join(source, '__init__.py'), 'utf8');
  const manifest = readFileSync(join(source, 'blender_manifest.toml'), 'utf8');
  const blInfo = /"version":\s*\((\d+),\s*(\d+),\s*(\d+)\)/.exec(init);
  const toml = /^version\s*=\s*"([^"]+)"/m.exec(manifest);
  if (!blInfo || !toml) throw new Error('add-on version not found in bl_info or the manifest');
  const version = blInfo.slice(1, 4).join('.');
  if (version !== toml[1]) {
    throw new Error(`bl_info version ${version} differs from blender_manifest.toml ${toml[1]}`);
  }
  return version;
}

export function buildAddonZip(out = ADDON_ZIP, source = ADDON_SOURCE) {
  const version = addonVersion(source);
  const entries: Zippable = {};
  const files = addonFiles(source);
  for (const file of files) {
    entries[`${PACKAGE}/${file}`] = [readFileSync(join(source, file)), { mtime: MTIME }];
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, zipSync(entries, { level: 9 }));
  return { path: out, version, files };
}

if (require.main === module) {
  try {
    const { path, version, files } = buildAddonZip(process.argv[2] ?? ADDON_ZIP);
    console.log(`add-on ${version}: ${files.length} files -> ${relative(process.cwd(), path)}`);
  } catch (e) {
    console.error(`addon: ${(e as Error).message}`);
    process.exit(1);
  }
}
