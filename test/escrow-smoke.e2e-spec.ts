// Smoke test of @tessera/escrow against a real EVM node: deploy, fund, settle, withdraw.
import { parseEther } from 'ethers';
import {
  EscrowClient,
  type LocalChain,
  deployEscrow,
  escrowEvents,
  jobIdToBytes32,
  startLocalChain,
} from '@tessera/escrow';

describe('escrow smoke', () => {
  let chain: LocalChain;
  let escrow: EscrowClient;

  beforeAll(async () => {
    chain = await startLocalChain({ accounts: 6 });
    const [admin, coordinator, treasury] = chain.accounts;
    ({ client: escrow } = await deployEscrow(admin, {
      admin: admin.address,
      coordinator: coordinator.address,
      treasury: treasury.address,
      unstakeDelaySeconds: 3600,
      jobTimeoutSeconds: 86_400,
    }));
  });

  afterAll(() => chain?.stop());

  it('funds a job, settles a batch and pays the operator', async () => {
    const [, coordinator, , requester, operator] = chain.accounts;
    const jobId = jobIdToBytes32('7f1d3a52-0c4e-4b8e-9d61-2a4f5e6b7c80');

    await (await escrow.connect(requester).fund(jobId, parseEther('1'))).wait();
    const settleTx = await escrow
      .connect(coordinator)
      .settle(jobId, 1n, [operator.address], [parseEther('0.25')]);
    const receipt = await settleTx.wait();
    expect(escrowEvents(receipt!).map((e) => e.name)).toEqual(['Credited', 'BatchSettled']);
    expect(await escrow.getJob(jobId)).toMatchObject({
      requester: requester.address,
      budget: parseEther('1'),
      spent: parseEther('0.25'),
      closed: false,
    });

    const before = await chain.provider.getBalance(operator.address);
    const withdrawal = await (await escrow.connect(operator).withdraw()).wait();
    const after = await chain.provider.getBalance(operator.address);
    expect(after - before).toBe(parseEther('0.25') - withdrawal!.fee);
    expect(await escrow.balanceOf(operator.address)).toBe(0n);
  });
});
