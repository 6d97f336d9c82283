import { createHash, randomBytes } from 'node:crypto';

// Requester API keys: a random secret shown once; only its SHA-256 is stored. A fast hash is
// right here (unlike passwords) because the secret has 192 bits of entropy.
const PREFIX = 'tsk_';

export interface GeneratedApiKey {
  secret: string;
  hash: string;
  prefix: string;
}

export function generateApiKey(): GeneratedApiKey {
  const secret = PREFIX + randomBytes(24).toString('base64url');
  return { secret, hash: hashApiKey(secret), prefix: secret.slice(0, PREFIX.length + 6) };
}

export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Accepts `Authorization: Bearer <key>` or `X-Api-Key: <key>`. */
export function apiKeyFromHeaders(headers: Record<string, string | string[] | undefined>) {
  const auth = headers['authorization'];
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) return auth.slice(7).trim();
  const key = headers['x-api-key'];
  return typeof key === 'string' ? key.trim() : undefined;
}

/** Creates a key through anything that can store its hash; returns the secret (shown once). */
export async function issueApiKey(
  store: {
    createApiKey(
      name: string,
      hash: string,
      prefix: string,
      admin?: boolean,
    ): Promise<{ id: string }>;
  },
  name: string,
  opts: { admin?: boolean } = {},
): Promise<{ id: string; secret: string }> {
  const key = generateApiKey();
  const { id } = await store.createApiKey(name, key.hash, key.prefix, opts.admin ?? false);
  return { id, secret: key.secret };
}
