import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

export class PasswordUnavailableError extends Error {
  override readonly name = 'PasswordUnavailableError';
}

/**
 * The keystore password: from --password-file, else TESSERA_KEY_PASSWORD, else asked on the
 * terminal (not echoed). A service without a terminal must use one of the first two.
 */
export function passwordSource(opts: {
  passwordFile?: string;
  env?: NodeJS.ProcessEnv;
  confirm?: boolean;
}): () => Promise<string> {
  let cached: string | undefined;
  return async () => {
    cached ??= await obtain(opts);
    return cached;
  };
}

async function obtain(opts: { passwordFile?: string; env?: NodeJS.ProcessEnv; confirm?: boolean }) {
  if (opts.passwordFile) {
    try {
      return (await readFile(opts.passwordFile, 'utf8')).replace(/\r?\n$/, '');
    } catch (e) {
      throw new PasswordUnavailableError(
        `cannot read the password file ${opts.passwordFile}: ${(e as Error).message}`,
      );
    }
  }
  const fromEnv = (opts.env ?? process.env).TESSERA_KEY_PASSWORD;
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) {
    throw new PasswordUnavailableError(
      'the node key is encrypted: give its password with --password-file or TESSERA_KEY_PASSWORD',
    );
  }
  const first = await prompt('Keystore password: ');
  if (opts.confirm && (await prompt('Repeat the password: ')) !== first) {
    throw new PasswordUnavailableError('the passwords do not match');
  }
  return first;
}

function prompt(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, _enc, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}
