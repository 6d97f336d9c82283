// `npm run escrow:deploy`, run as an operator runs it (the built script, settings from the
// environment) against a real EVM node: the escrow it deploys has the roles and delays asked for,
// and the address it prints is one a coordinator accepts at start-up. Bad settings stop it with
// one line each and deploy nothing.
import {
  COORDINATOR_ROLE,
  DEFAULT_ADMIN_ROLE,
  EscrowClient,
  type LocalChain,
  startLocalChain,
} from '@tessera/escrow';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connectChain } from '../apps/coordinator/src/chain/chain';
import { loadConfig } from '../apps/coordinator/src/config/config';

jest.setTimeout(120_000);

const script = join(__dirname, '..', 'dist', 'scripts', 'deploy-escrow.js');
let chain: LocalChain;

beforeAll(async () => {
  chain = await startLocalChain({ accounts: 6 });
});

afterAll(async () => {
  await chain?.stop();
});

function deploy(env: NodeJS.ProcessEnv) {
  // only what is given here: nothing of the test's own environment leaks into the settings
  return promisify(execFile)(process.execPath, [script], {
    env: { PATH: process.env.PATH, ...env },
  });
}

it('deploys the escrow with the roles asked for and prints an ESCROW_ADDRESS a coordinator accepts', async () => {
  const [deployer, coordinator, admin, treasury] = chain.accounts;
  const { stdout } = await deploy({
    CHAIN_RPC_URL: chain.url,
    DEPLOYER_KEY: deployer.privateKey,
    COORDINATOR_KEY: coordinator.privateKey,
    ESCROW_ADMIN: admin.address.toLowerCase(),
    ESCROW_TREASURY: treasury.address,
    ESCROW_UNSTAKE_DELAY_SECONDS: '3600',
  });
  const address = /^ESCROW_ADDRESS=(0x[0-9a-fA-F]{40})$/m.exec(stdout)?.[1];
  expect(address).toBeDefined();
  expect(stdout.trim().split('\n').pop()).toBe(`ESCROW_ADDRESS=${address}`);

  const escrow = new EscrowClient(address!, chain.provider);
  expect(await chain.provider.getCode(address!)).not.toBe('0x');
  expect(await escrow.hasRole(DEFAULT_ADMIN_ROLE, admin.address)).toBe(true);
  expect(await escrow.hasRole(DEFAULT_ADMIN_ROLE, deployer.address)).toBe(false);
  expect(await escrow.hasRole(COORDINATOR_ROLE, coordinator.address)).toBe(true);
  expect(await escrow.hasRole(COORDINATOR_ROLE, deployer.address)).toBe(false);
  expect(await escrow.treasury()).toBe(treasury.address);
  expect(await escrow.unstakeDelay()).toBe(3600n);
  expect(await escrow.jobTimeout()).toBe(30n * 24n * 3600n);
  expect(await escrow.paused()).toBe(false);

  // the coordinator's own start-up check passes with the printed address
  const connected = await connectChain(
    loadConfig({
      ...process.env,
      NODE_ENV: 'test',
      CHAIN_RPC_URL: chain.url,
      ESCROW_ADDRESS: address,
      COORDINATOR_KEY: coordinator.privateKey,
    }),
  );
  try {
    expect(connected?.escrow.address).toBe(address);
    expect(connected?.chainId).toBe(chain.chainId);
  } finally {
    connected?.provider.destroy();
  }
});

it('defaults the admin and the treasury to the deployer when not given', async () => {
  const [deployer, coordinator] = chain.accounts;
  const { stdout } = await deploy({
    CHAIN_RPC_URL: chain.url,
    DEPLOYER_KEY: deployer.privateKey,
    ESCROW_COORDINATOR: coordinator.address,
  });
  const address = /^ESCROW_ADDRESS=(0x[0-9a-fA-F]{40})$/m.exec(stdout)![1];
  const escrow = new EscrowClient(address, chain.provider);
  expect(await escrow.hasRole(DEFAULT_ADMIN_ROLE, deployer.address)).toBe(true);
  expect(await escrow.treasury()).toBe(deployer.address);
  expect(await escrow.unstakeDelay()).toBe(7n * 24n * 3600n);
});

it('refuses bad settings with one line each and deploys nothing', async () => {
  const [deployer, coordinator] = chain.accounts;
  const nonce = await chain.provider.getTransactionCount(deployer.address);
  const refusal = (env: NodeJS.ProcessEnv) =>
    deploy({ CHAIN_RPC_URL: chain.url, ...env }).then(
      () => {
        throw new Error('deployed with bad settings');
      },
      (e: { code: number; stderr: string }) => ({
        code: e.code,
        lines: e.stderr.trim().split('\n'),
      }),
    );
  expect(
    await refusal({
      DEPLOYER_KEY: deployer.privateKey,
      ESCROW_COORDINATOR: coordinator.address,
      ESCROW_ADMIN: '0x1234',
    }),
  ).toEqual({ code: 2, lines: ['escrow:deploy: ESCROW_ADMIN: not an address: 0x1234'] });
  expect(await refusal({ DEPLOYER_KEY: deployer.privateKey })).toEqual({
    code: 2,
    lines: [
      'escrow:deploy: ESCROW_COORDINATOR: set ESCROW_COORDINATOR (or COORDINATOR_KEY): the key that settles and slashes',
    ],
  });
  expect(await refusal({ ESCROW_COORDINATOR: coordinator.address })).toEqual({
    code: 2,
    lines: ['escrow:deploy: DEPLOYER_KEY: required'],
  });
  expect(await chain.provider.getTransactionCount(deployer.address)).toBe(nonce);
});
