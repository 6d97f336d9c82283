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
