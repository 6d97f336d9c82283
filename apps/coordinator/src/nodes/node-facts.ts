import { blenderVersionNumber, isBlenderVersion } from '@tessera/protocol';

/** The columns the lease grant matches jobs against; null where the node did not say. */
export interface NodeFactColumns {
  blenderNum: number | null;
  renderDevice: 'cpu' | 'gpu' | null;
  renderMemMb: number | null;
}

/**
 * Reads the matching facts out of the capabilities a node registers (self-reported, like all of
 * them: verification, not this, is what keeps a lying node from being paid). Malformed values
 * count as unknown, so such a node only gets jobs without requirements.
 */
export function nodeFactColumns(
  capabilities: Record<string, unknown> | undefined,
): NodeFactColumns {
  const render = (capabilities?.render ?? {}) as Record<string, unknown>;
  const version = render.blenderVersion ?? capabilities?.blenderVersion;
  const memory = render.memoryMb;
  return {
    blenderNum:
      typeof version === 'string' && isBlenderVersion(version)
        ? blenderVersionNumber(version)
        : null,
    renderDevice: render.device === 'cpu' || render.device === 'gpu' ? render.device : null,
    renderMemMb:
      typeof memory === 'number' && Number.isInteger(memory) && memory >= 0 && memory < 2 ** 31
        ? memory
        : null,
  };
}
