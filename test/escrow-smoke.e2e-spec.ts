// Smoke test of @tessera/escrow against a real EVM node (deploy, fund, settle, withdraw), and the
// local node's own controls: pause/resume keeps the chain, restart gives a fresh one, stop leaves
// no process behind.
import { parseEther } from 'ethers';
import {
  EscrowClient,
  type LocalChain,
  deployLocalEscrow,
  escrowEvents,
  jobIdToBytes32,
  startLocalChain,
} from '@tessera/escrow';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function blockNumber(url: string, timeoutMs = 2000): Promise<number> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return Number(((await response.json()) as { result: string }).result);
}

describe('escrow smoke', () => {
  let chain: LocalChain;
  let escrow: EscrowClient;

  beforeAll(async () => {
    chain = await startLocalChain({ accounts: 6 });
    escrow = await deployLocalEscrow(chain);
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

  it('pause() freezes the node without losing the chain; resume() brings it back', async () => {
    const height = await blockNumber(chain.url);
    expect(height).toBeGreaterThan(0);
    chain.pause();
    try {
      await expect(blockNumber(chain.url, 500)).rejects.toThrow();
    } finally {
      chain.resume();
    }
    expect(await blockNumber(chain.url)).toBe(height);
    expect(await escrow.paused()).toBe(false); // the deployed escrow is still there
  });
});

describe('local chain lifecycle', () => {
  it('restart() gives a fresh chain on the same port and stop() leaves no process', async () => {
    const chain = await startLocalChain({ accounts: 2 });
    const firstPid = chain.pid!;
    try {
      const [a, b] = chain.accounts;
      expect(chain.chainId).toBe(31337n);
      // hardhat's well-known first dev account
      expect(a.address).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
      await (await a.sendTransaction({ to: b.address, value: 1n })).wait();
      expect(await blockNumber(chain.url)).toBe(1);

      await chain.restart();
      expect(alive(firstPid)).toBe(false);
      expect(chain.pid).not.toBe(firstPid);
      expect(await blockNumber(chain.url)).toBe(0);
      expect(await chain.provider.getBlockNumber()).toBe(0);
    } finally {
      const pid = chain.pid!;
      await chain.stop();
      expect(chain.pid).toBeUndefined();
      expect(alive(pid)).toBe(false);
    }
    await expect(blockNumber(chain.url, 1000)).rejects.toThrow();
  });
});
