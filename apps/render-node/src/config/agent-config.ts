import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

const schema = z.object({
  TESSERA_COORDINATOR: z.string().url().default('http://127.0.0.1:8080'),
  TESSERA_NODE_KEY: z.string().default(join(homedir(), '.tessera', 'node.key')),
  TESSERA_WORK_DIR: z.string().default(join(homedir(), '.tessera', 'work')),
  TESSERA_NODE_NAME: z.string().max(100).optional(),
  BLENDER_PATH: z.string().default('blender'),
  TESSERA_THREADS: z.coerce.number().int().min(1).optional(),
  TESSERA_RENDER_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(30 * 60_000),
  TESSERA_POLL_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(20_000),
});

export type AgentConfig = z.infer<typeof schema>;

/** Agent settings from the environment; one clear line per problem instead of a stack trace. */
export function loadAgentConfig(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid render-node configuration: ${lines.join('; ')}`);
  }
  return parsed.data;
}
