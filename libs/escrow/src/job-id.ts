// The escrow keys jobs by bytes32; the coordinator's job ids are UUIDs. A UUID's 16 bytes sit
// right-aligned in the 32 (left-padded with zeros), so the mapping is reversible and the on-chain id
// is readable in a block explorer.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PADDED = /^0x0{32}([0-9a-f]{32})$/i;

/** '0x' + the UUID's 32 hex digits, left-padded with zeros to 32 bytes (lowercase). */
export function jobIdToBytes32(jobId: string): string {
  if (!UUID.test(jobId)) throw new Error(`job id must be a UUID, got ${JSON.stringify(jobId)}`);
  return `0x${jobId.replace(/-/g, '').toLowerCase().padStart(64, '0')}`;
}

/** The UUID (lowercase, with dashes) that jobIdToBytes32 turned into `bytes32`. */
export function bytes32ToJobId(bytes32: string): string {
  const match = PADDED.exec(bytes32);
  if (!match) {
    throw new Error(
      `not a job id: expected 0x + 32 zero hex digits + 32 hex digits, got ${JSON.stringify(bytes32)}`,
    );
  }
  const hex = match[1].toLowerCase();
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    hex.slice(12, 16),
    hex.slice(16, 20),
    hex.slice(20),
  ].join('-');
}
