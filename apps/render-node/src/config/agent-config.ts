import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * Render-node settings: defaults, then the config file, then the environment, then command-line
 * flags. Validated once, at start-up, into a typed object; a bad value stops the agent with one
 * line that names the setting and where it came from.
 */
const wholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ message: 'expected a number' })
    .int({ message: 'expected a whole number' })
    .min(min, { message: `must be at least ${min}` })
    .max(max, { message: `must be at most ${max}` });

const WEI = /^[0-9]{1,78}$/;

const flag = z.union([
  z.boolean(),
  z
    .enum(['1', 'true', 'yes', 'on', '0', 'false', 'no', 'off'])
    .transform((v) => ['1', 'true', 'yes', 'on'].includes(v)),
]);

export const configSchema = z
  .object({
    coordinator: z.url({ message: 'expected a URL like http://coordinator:8080' }),
    /** the node's Ethereum key: an encrypted keystore (render-node init), or a legacy hex file */
    keyFile: z.string().min(1),
    workDir: z.string().min(1),
    name: z.string().max(100).optional(),
    /** wei per work unit (1 MP x 100 samples): jobs priced below it are not leased to this node */
    askPriceWei: z
      .union([z.string(), z.number()], { message: 'expected a whole number of wei' })
      .superRefine((v, ctx) => {
        if (typeof v === 'string' ? WEI.test(v) : Number.isSafeInteger(v) && v >= 0) return;
        // a JSON number above 2^53 has already lost its last digits when it gets here
        const inexact = typeof v === 'number' && v > Number.MAX_SAFE_INTEGER;
        ctx.addIssue({
          code: 'custom',
          message: inexact
            ? 'a JSON number this large is not exact: write the wei as a string'
            : 'expected a whole number of wei',
        });
      })
      .transform(String)
      .optional(),
    blenderPath: z.string().min(1),
    /** cpu, gpu, or a backend with device indices: cuda, optix:0,1, hip:0 ... */
    device: z.string().regex(/^(cpu|gpu|[a-z]+(:\d+(,\d+)*)?)$/i, {
      message: 'expected cpu, gpu, cuda, optix:0,1 ...',
    }),
    threads: wholeNumber(1, 1024).optional(),
    renderTimeoutMs: wholeNumber(1000),
    pollWaitMs: wholeNumber(0, 60_000),
    /** per Blender process; unset: no limit */
    maxMemoryMb: wholeNumber(256).optional(),
    sceneCacheMb: wholeNumber(64),
    /** prefetch the next lease and report the previous tile while rendering */
    pipeline: flag,
    /** JSON log lines (for services) instead of text and progress bars */
    json: flag,
  })
  .strict();

export type AgentConfig = z.infer<typeof configSchema>;
type Key = keyof AgentConfig;

/** Environment variable of each setting. */
export const ENV_NAMES: Record<Key, string> = {
  coordinator: 'TESSERA_COORDINATOR',
  keyFile: 'TESSERA_NODE_KEY',
  workDir: 'TESSERA_WORK_DIR',
  name: 'TESSERA_NODE_NAME',
  askPriceWei: 'TESSERA_ASK_PRICE_WEI',
  blenderPath: 'BLENDER_PATH',
  device: 'TESSERA_DEVICE',
  threads: 'TESSERA_THREADS',
  renderTimeoutMs: 'TESSERA_RENDER_TIMEOUT_MS',
  pollWaitMs: 'TESSERA_POLL_WAIT_MS',
  maxMemoryMb: 'TESSERA_MAX_MEMORY_MB',
  sceneCacheMb: 'TESSERA_SCENE_CACHE_MB',
  pipeline: 'TESSERA_PIPELINE',
  json: 'TESSERA_LOG_JSON',
};

export function defaultConfig(home = homedir()): Record<Key, unknown> {
  const base = join(home, '.tessera');
  return {
    coordinator: 'http://127.0.0.1:8080',
    keyFile: join(base, 'node.key'),
    workDir: join(base, 'work'),
    name: undefined,
    askPriceWei: undefined,
    blenderPath: 'blender',
    device: 'cpu',
    threads: undefined,
    renderTimeoutMs: 30 * 60_000,
    pollWaitMs: 20_000,
    maxMemoryMb: undefined,
    sceneCacheMb: 20_480,
    pipeline: true,
    json: false,
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface ConfigSources {
  env?: NodeJS.ProcessEnv;
  /** a JSON file with the same keys as the flags (camelCase); default TESSERA_CONFIG or ~/.tessera/config.json if present */
  file?: string;
  flags?: Partial<Record<Key, unknown>>;
  home?: string;
}

export function loadAgentConfig(sources: ConfigSources = {}): AgentConfig {
  const env = sources.env ?? process.env;
  const origin = new Map<Key, string>();
  const merged: Record<string, unknown> = { ...defaultConfig(sources.home) };

  const explicitFile = sources.file ?? env.TESSERA_CONFIG;
  const file = explicitFile ?? join(sources.home ?? homedir(), '.tessera', 'config.json');
  if (explicitFile || existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(`config file ${file} must hold a JSON object`);
    }
    for (const [k, v] of Object.entries(parsed)) {
      merged[k] = v;
      origin.set(k as Key, `in ${file}`);
    }
  }
  for (const [key, name] of Object.entries(ENV_NAMES) as [Key, string][]) {
    const v = env[name];
    if (v !== undefined && v !== '') {
      merged[key] = v;
      origin.set(key, name);
    }
  }
  for (const [key, v] of Object.entries(sources.flags ?? {}) as [Key, unknown][]) {
    if (v !== undefined) {
      merged[key] = v;
      origin.set(key, `--${kebab(key)}`);
    }
  }
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];

  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = issue.path[0] as Key | undefined;
      if (issue.code === 'unrecognized_keys') {
        return `unknown setting ${issue.keys.join(', ')}${file ? ` in ${file}` : ''}`;
      }
      const where = key ? (origin.get(key) ?? 'default') : '';
      const got =
        key !== undefined && merged[key] !== undefined
          ? ` (got ${JSON.stringify(merged[key])})`
          : '';
      return `${key ?? 'config'} from ${where}: ${issue.message}${got}`;
    });
    throw new ConfigError(`invalid render-node configuration: ${problems.join('; ')}`);
  }
  return result.data;
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
