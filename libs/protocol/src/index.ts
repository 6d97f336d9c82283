// The contract between the coordinator and render-node agents: one definition both apps import.

/** A pixel rectangle, top-left origin (image convention, not Blender's bottom-left). */
export interface PixelRegion {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Margins {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export interface ChallengeRequest {
  address: string;
}

export interface ChallengeResponse {
  nonce: string;
  message: string;
  expiresAt: string;
}

export interface SessionRequest {
  address: string;
  nonce: string;
  signature: string;
  name?: string;
  capabilities?: Record<string, unknown>;
}

export interface SessionResponse {
  token: string;
  nodeId: string;
  address: string;
  expiresAt: string;
}

export interface LeaseRequest {
  /** how long the coordinator may hold the request open waiting for work */
  waitMs?: number;
  /**
   * the leases the node holds now: any older active lease of the node that is not listed is a
   * grant whose answer never reached it (a coordinator crash between commit and reply) and is
   * released at once instead of when it lapses
   */
  held?: string[];
}

/** What a node receives for one unit of work. */
export interface LeaseGrant {
  leaseId: string;
  jobId: string;
  shardId: string;
  frame: number;
  /** full frame resolution, after the scene's resolution percentage */
  resolution: { width: number; height: number };
  /** region to render, margins included */
  region: PixelRegion;
  seed: number;
  samples: number | null;
  scene: { sha256: string; size: number; url: string };
  upload: { url: string; method: 'PUT'; contentType: string; maxBytes: number };
  expiresAt: string;
  heartbeatMs: number;
}

export interface HeartbeatResponse {
  expiresAt: string;
}

export interface CompleteRequest {
  sha256: string;
  renderMs: number;
  signature: string;
}

export interface FailRequest {
  reason: string;
}

/** EIP-191 message a node signs to prove it holds the key for its address. */
export function sessionMessage(address: string, nonce: string): string {
  return `Tessera node login\naddress: ${address.toLowerCase()}\nnonce: ${nonce}`;
}

/** EIP-191 message a node signs over a finished tile; bound to the lease so it cannot be replayed. */
export function completionMessage(leaseId: string, sha256: string): string {
  return `Tessera result\nlease: ${leaseId}\nsha256: ${sha256.toLowerCase()}`;
}

export const API_PREFIX = '/api/v1';

// ---- Matching work to nodes -------------------------------------------------------------------

export const JOB_DEVICES = ['any', 'cpu', 'gpu'] as const;
export type JobDevice = (typeof JOB_DEVICES)[number];
export type RenderDevice = 'cpu' | 'gpu';

/** What a job asks of the node that renders it (settings of POST /api/v1/jobs). */
export interface JobRequirements {
  /** memory of the render device in MiB: the GPU's VRAM, or the machine's RAM for a CPU node */
  minVramMb?: number | null;
  /** "3.4" or "3.4.1": the oldest Blender that may render the job */
  minBlenderVersion?: string | null;
  device?: JobDevice;
}

/** The facts about a node that matching uses, derived from the capabilities it registers. */
export interface NodeRenderFacts {
  blenderVersion: string;
  /** what this node renders on: its GPUs when it selected any, else the CPU */
  device: RenderDevice;
  /** the render device's memory in MiB: the smallest selected GPU's VRAM, or RAM for the CPU */
  memoryMb: number;
}

const BLENDER_VERSION = /^(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?$/;

export function isBlenderVersion(text: string): boolean {
  return BLENDER_VERSION.test(text);
}

/**
 * A Blender version as one comparable number (major * 1000 + minor): the coordinator compares
 * these in SQL. The patch level is ignored, as feature support changes with minor versions.
 */
export function blenderVersionNumber(text: string): number {
  const m = BLENDER_VERSION.exec(text.trim());
  if (!m) throw new RangeError(`not a Blender version: ${JSON.stringify(text)}`);
  return Number(m[1]) * 1000 + Number(m[2]);
}

/**
 * The matching rule. The lease grant (apps/coordinator leases.repository.ts) applies the same
 * rule in SQL; a node whose facts are unknown only gets jobs without requirements.
 */
export function nodeSatisfiesJob(
  node: NodeRenderFacts | null | undefined,
  job: JobRequirements,
): boolean {
  const device = job.device ?? 'any';
  const needsFacts = device !== 'any' || job.minVramMb != null || job.minBlenderVersion != null;
  if (!needsFacts) return true;
  if (!node) return false;
  if (device !== 'any' && device !== node.device) return false;
  if (job.minVramMb != null && !(node.memoryMb >= job.minVramMb)) return false;
  if (job.minBlenderVersion != null) {
    if (!isBlenderVersion(node.blenderVersion)) return false;
    if (blenderVersionNumber(node.blenderVersion) < blenderVersionNumber(job.minBlenderVersion)) {
      return false;
    }
  }
  return true;
}

export { eip191Sign, eip191SignedBy } from './signing';
