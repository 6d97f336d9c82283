import { Wallet } from 'ethers';
import { AgentConfig } from '../../config/agent-config';
import { keyFileKind, loadNodeKey, NodeKeyError, writeKeystore } from '../../identity/node-key';
import { passwordSource } from '../password';

export interface InitOptions {
  /** a plain hex key file or a keystore to take over (its password: --import-password-file) */
  import?: string;
  importPasswordFile?: string;
  passwordFile?: string;
  force?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** Creates (or imports) the node's key and stores it as an encrypted keystore. */
export async function runInit(config: AgentConfig, opts: InitOptions): Promise<string> {
  if (!opts.force && (await keyFileKind(config.keyFile)) !== 'missing') {
    throw new NodeKeyError(`${config.keyFile} already holds a key (pass --force to replace it)`);
  }
  const wallet = opts.import
    ? await loadNodeKey(
        opts.import,
        passwordSource({ passwordFile: opts.importPasswordFile, env: opts.env }),
      )
    : Wallet.createRandom();
  const password = await passwordSource({
    passwordFile: opts.passwordFile,
    env: opts.env,
    confirm: true,
  })();
  await writeKeystore(config.keyFile, wallet, password, { overwrite: opts.force });
  return wallet.address;
}
