import { VoidSigner, Wallet } from 'ethers';
import { CoordinatorClient } from './coordinator-client';

describe('CoordinatorClient.signMessage', () => {
  it("signs with a key in memory exactly as ethers' Wallet does", async () => {
    const wallet = Wallet.createRandom();
    const client = new CoordinatorClient('http://127.0.0.1:1', wallet);
    const message = 'tessera-result:lease:hash';
    expect(await client.signMessage(message)).toBe(await wallet.signMessage(message));
  });

  it('leaves any other signer to sign for itself', async () => {
    // a VoidSigner holds no key: it can only refuse, which shows the call reached it
    const client = new CoordinatorClient(
      'http://127.0.0.1:1',
      new VoidSigner(Wallet.createRandom().address),
    );
    await expect(client.signMessage('x')).rejects.toThrow(/VoidSigner cannot sign messages/);
  });
});
