// The one command line used to run Blender on an untrusted .blend (inspection and rendering).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface BlenderRunOptions {
  /** Blender executable; default "blender" from PATH */
  blenderPath?: string;
  /** folder holding the Python scripts; default: the repository's blender-scripts/ */
  scriptsDir?: string;
  /**
   * Extra environment for Blender (e.g. CUDA_VISIBLE_DEVICES, or HOME to keep GPU kernel caches
   * between runs). Nothing else from process.env reaches Blender except the allow-list below.
   */
  env?: Record<string, string>;
  /** kill Blender when its resident memory exceeds this (Linux only, polled) */
  maxRssBytes?: number;
  /**
   * Hard address-space limit (RLIMIT_AS via prlimit, Linux): allocations beyond it fail inside
   * Blender at once, where the RSS watchdog only notices after the fact.
   */
  addressSpaceBytes?: number;
  /** prlimit executable; default /usr/bin/prlimit */
  prlimitPath?: string;
}

export interface BlenderCommandInput {
  blenderPath?: string;
  /** absolute path of the Python script to run */
  script: string;
  /** arguments after "--", read by the script */
  scriptArgs: string[];
  /** empty private directory that becomes HOME, TMPDIR and Blender's user folders */
  sandboxDir: string;
  /** render threads (Blender's -t) */
  threads?: number;
  /** run Blender under `prlimit --as=N` */
  addressSpaceBytes?: number;
  prlimitPath?: string;
  /** parent environment to take the allow-listed variables from; default process.env */
  baseEnv?: NodeJS.ProcessEnv;
  extraEnv?: Record<string, string>;
}

export interface BlenderCommand {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** Variables passed through from the parent: how to find programs and GPUs, nothing secret. */
const PASS_THROUGH = [
  'PATH',
  'LD_LIBRARY_PATH',
  'CUDA_VISIBLE_DEVICES',
  'NVIDIA_VISIBLE_DEVICES',
  'HIP_VISIBLE_DEVICES',
  'ROCR_VISIBLE_DEVICES',
  'ONEAPI_DEVICE_SELECTOR',
];

/**
 * Set to empty whatever the parent has: Python start-up hooks and extra script folders would run
 * code next to an untrusted scene (the allow-list already keeps them out; this says so loudly).
 */
const BLANKED = [
  'PYTHONPATH',
  'PYTHONSTARTUP',
  'PYTHONHOME',
  'PYTHONUSERBASE',
  'BLENDER_SYSTEM_SCRIPTS',
  'BLENDER_SYSTEM_PYTHON',
  'BLENDER_SYSTEM_DATAFILES',
];

export const DEFAULT_BLENDER = 'blender';
export const DEFAULT_PRLIMIT = '/usr/bin/prlimit';

export function safeBlenderCommand(input: BlenderCommandInput): BlenderCommand {
  const base = input.baseEnv ?? process.env;
  const sandbox = input.sandboxDir;
  const env: Record<string, string> = {};
  for (const key of PASS_THROUGH) {
    const v = base[key];
    if (v !== undefined) env[key] = v;
  }
  env.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  Object.assign(env, {
    // Nothing of the operator's (keys, tokens, user add-ons, preferences) is visible or writable.
    HOME: sandbox,
    TMPDIR: sandbox,
    XDG_CONFIG_HOME: join(sandbox, 'config'),
    XDG_CACHE_HOME: join(sandbox, 'cache'),
    XDG_DATA_HOME: join(sandbox, 'data'),
    BLENDER_USER_CONFIG: join(sandbox, 'config'),
    BLENDER_USER_SCRIPTS: join(sandbox, 'scripts'),
    BLENDER_USER_DATAFILES: join(sandbox, 'datafiles'),
    PYTHONNOUSERSITE: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
  });
  for (const key of BLANKED) delete env[key];
  Object.assign(env, input.extraEnv ?? {});
  for (const key of BLANKED) delete env[key]; // not even through extraEnv

  const args = [
    '-b',
    '--factory-startup', // no user startup file, preferences or add-ons
    '--disable-autoexec', // no Python from the .blend: drivers, registered text blocks
    '-noaudio',
    '--python-exit-code',
    '1',
  ];
  if (input.threads !== undefined) {
    if (!Number.isInteger(input.threads) || input.threads < 0) {
      throw new RangeError(`threads must be a non-negative integer, got ${input.threads}`);
    }
    args.push('--threads', String(input.threads));
  }
  args.push('--python', input.script, '--', ...input.scriptArgs);
  const blender = input.blenderPath ?? DEFAULT_BLENDER;
  if (input.addressSpaceBytes !== undefined) {
    if (!Number.isInteger(input.addressSpaceBytes) || input.addressSpaceBytes <= 0) {
      throw new RangeError(`addressSpaceBytes must be a positive integer`);
    }
    // prlimit execs Blender: same pid, same process group, the limit inherited by its children
    return {
      command: input.prlimitPath ?? DEFAULT_PRLIMIT,
      args: [`--as=${input.addressSpaceBytes}`, '--', blender, ...args],
      env,
    };
  }
  return { command: blender, args, env };
}

let cachedScriptsDir: string | undefined;

/** blender-scripts/ next to the sources, or next to the compiled output (dist/...). */
export function defaultScriptsDir(): string {
  if (cachedScriptsDir) return cachedScriptsDir;
  const candidates = [
    resolve(__dirname, '../../../blender-scripts'), // libs/blender/src
    resolve(__dirname, '../../../../blender-scripts'), // dist/libs/blender/src
  ];
  const found = candidates.find((dir) => existsSync(join(dir, 'tile_worker.py')));
  if (!found) {
    throw new Error(`blender-scripts not found (looked in ${candidates.join(', ')})`);
  }
  cachedScriptsDir = found;
  return found;
}

export function blenderScriptPath(name: string, scriptsDir?: string): string {
  return join(scriptsDir ?? defaultScriptsDir(), name);
}
