// Configuration of the local EVM node (`hardhat node`) that tests, benchmarks and the demo start
// through startLocalChain (local-chain.ts). Nothing is compiled by hardhat: contracts are built by
// scripts/compile-contracts.ts with solc-js, so hardhat's sources/cache/artifacts point at a
// scratch directory.
const os = require('node:os');
const path = require('node:path');

const scratch = path.join(os.tmpdir(), 'tessera-hardhat');

module.exports = {
  solidity: '0.8.24',
  paths: {
    root: __dirname,
    sources: path.join(scratch, 'sources'),
    cache: path.join(scratch, 'cache'),
    artifacts: path.join(scratch, 'artifacts'),
  },
  networks: {
    hardhat: {
      chainId: 31337,
      // The EVM version the contracts are compiled for (SOLC_SETTINGS.evmVersion).
      hardfork: 'cancun',
      accounts: {
        mnemonic: 'test test test test test test test test test test test junk',
        count: Number(process.env.TESSERA_CHAIN_ACCOUNTS || 20),
        accountsBalance: '10000000000000000000000',
      },
    },
  },
};
