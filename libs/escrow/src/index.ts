// @tessera/escrow: the TesseraEscrow contract's artifact and typed ethers client, job id mapping,
// and a local EVM node (plus an RPC proxy to simulate outages) for tests, benchmarks and the demo.
export * from './escrow-client';
export * from './job-id';
export * from './local-chain';
export * from './rpc-proxy';
