// `npm run escrow:deploy` (after a build): deploys the escrow contract to CHAIN_RPC_URL for
// production, from the committed artifact (the same bytecode the tests run), and prints the
// ESCROW_ADDRESS to give the coordinators. Settings come from the environment:
//   CHAIN_RPC_URL         the chain's JSON-RPC endpoint
//   DEPLOYER_KEY          private key that pays for the deployment (holds no role unless named)
//   ESCROW_COORDINATOR    the coordinator key's address (or COORDINATOR_KEY, whose address is used)
//   ESCROW_ADMIN          pauses, rotates the coordinator key, sets the treasury (default: deployer)
//   ESCROW_TREASURY       receives slashed stake of jobs without a requester (default: admin)
//   ESCROW_UNSTAKE_DELAY_SECONDS  default 7 days: stake stays slashable this long after a request
//   ESCROW_JOB_TIMEOUT_SECONDS    default 30 days: a requester may reclaim an unclosed job after it
import { deployEscrow } from '@tessera/escrow';
import { getAddress, JsonRpcProvider, Wallet } from 'ethers';
import { z } from 'zod';
import { privateKey } from '../apps/coordinator/src/config/config';

const DAY = 24 * 3600;

const address = z.string().transform((value, ctx) => {
  try {
    return getAddress(value.toLowerCase());
  } catch {
    ctx.addIssue({ code: 'custom', message: `not an address: ${value}` });
    return z.NEVER;
  }
});
const seconds = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

const settingsSchema = z
  .object({
    CHAIN_RPC_URL: z.string().url(),
    DEPLOYER_KEY: privateKey,
    ESCROW_COORDINATOR: address.optional(),
    COORDINATOR_KEY: privateKey.optional(),
    ESCROW_ADMIN: address.optional(),
    ESCROW_TREASURY: address.optional(),
    ESCROW_UNSTAKE_DELAY_SECONDS: seconds(7 * DAY),
    ESCROW_JOB_TIMEOUT_SECONDS: seconds(30 * DAY),
  })
  .refine((s) => s.ESCROW_COORDINATOR || s.COORDINATOR_KEY, {
    message: 'set ESCROW_COORDINATOR (or COORDINATOR_KEY): the key that settles and slashes',
    path: ['ESCROW_COORDINATOR'],
  });

async function main() {
  const parsed = settingsSchema.safeParse(process.env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const value = issue.code === 'invalid_type' ? 'required' : issue.message;
      console.error(`escrow:deploy: ${issue.path.join('.')}: ${value}`);
    }
    process.exit(2);
  }
  const s = parsed.data;
  const provider = new JsonRpcProvider(s.CHAIN_RPC_URL);
  try {
    const { chainId } = await provider.getNetwork();
    const deployer = new Wallet(s.DEPLOYER_KEY, provider);
    const admin = s.ESCROW_ADMIN ?? deployer.address;
    const options = {
      admin,
      coordinator: s.ESCROW_COORDINATOR ?? new Wallet(s.COORDINATOR_KEY!).address,
      treasury: s.ESCROW_TREASURY ?? admin,
      unstakeDelaySeconds: s.ESCROW_UNSTAKE_DELAY_SECONDS,
      jobTimeoutSeconds: s.ESCROW_JOB_TIMEOUT_SECONDS,
    };
    console.log(`deploying TesseraEscrow on chain ${chainId} from ${deployer.address}`);
    const { client, receipt } = await deployEscrow(deployer, options);
    console.log(`deployed in block ${receipt.blockNumber} (tx ${receipt.hash})`);
    console.log(`  admin       ${options.admin}`);
    console.log(`  coordinator ${options.coordinator}`);
    console.log(`  treasury    ${options.treasury}`);
    console.log(
      `  unstake delay ${options.unstakeDelaySeconds} s, job timeout ${options.jobTimeoutSeconds} s`,
    );
    console.log("Set this in every coordinator's environment:");
    console.log(`ESCROW_ADDRESS=${client.address}`);
  } finally {
    provider.destroy();
  }
}

main().catch((e: Error) => {
  console.error(`escrow:deploy: ${e.message}`);
  process.exit(1);
});
