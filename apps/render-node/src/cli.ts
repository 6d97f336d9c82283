#!/usr/bin/env node
// `render-node`: the operator's command line (installed as a bin; see README.md beside this app).
import { Command, Option } from 'commander';
import { AgentConfig, ConfigError, loadAgentConfig } from './config/agent-config';
import { runBenchmark } from './cli/commands/benchmark';
import { runDoctor } from './cli/commands/doctor';
import { runInit } from './cli/commands/init';
import {
  describeBalances,
  describeEarnings,
  runEarnings,
  runStake,
  runUnstake,
  runWithdraw,
  toJson,
} from './cli/commands/payouts';
import { runStart } from './cli/commands/start';
import { readStatus } from './cli/commands/status';
import type { OperatorBalances } from './payouts/operator-payouts';

interface GlobalFlags {
  config?: string;
  coordinator?: string;
  key?: string;
  workDir?: string;
  name?: string;
  askPriceWei?: string;
  blender?: string;
  device?: string;
  threads?: string;
  renderTimeoutMs?: string;
  pollWaitMs?: string;
  maxMemoryMb?: string;
  sceneCacheMb?: string;
  pipeline?: boolean;
  json?: boolean;
  passwordFile?: string;
}

function config(cmd: Command): AgentConfig {
  const f = cmd.optsWithGlobals<GlobalFlags>();
  return loadAgentConfig({
    file: f.config,
    flags: {
      coordinator: f.coordinator,
      keyFile: f.key,
      workDir: f.workDir,
      name: f.name,
      askPriceWei: f.askPriceWei,
      blenderPath: f.blender,
      device: f.device,
      threads: f.threads,
      renderTimeoutMs: f.renderTimeoutMs,
      pollWaitMs: f.pollWaitMs,
      maxMemoryMb: f.maxMemoryMb,
      sceneCacheMb: f.sceneCacheMb,
      // commander sets pipeline=true unless --no-pipeline: only the explicit "no" is a flag
      pipeline: f.pipeline === false ? false : undefined,
      json: f.json || undefined,
    },
  });
}

/** One line on stderr, no stack trace (TESSERA_DEBUG=1 shows it); exit 2 for configuration. */
export function exitWith(e: unknown): never {
  const err = e instanceof Error ? e : new Error(String(e));
  process.stderr.write(`render-node: ${err.message.split('\n')[0]}\n`);
  if (process.env.TESSERA_DEBUG) process.stderr.write(`${err.stack}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
}

function action<A extends unknown[]>(fn: (...args: A) => Promise<void>) {
  return (...args: A) => fn(...args).catch(exitWith);
}

export function buildCli(): Command {
  const program = new Command('render-node')
    .description('Tessera render node: renders leased tiles with Blender and gets paid for them')
    .option('--config <file>', 'JSON config file (default ~/.tessera/config.json if present)')
    .option('--coordinator <url>', 'coordinator URL (TESSERA_COORDINATOR)')
    .option('--key <file>', 'node key: encrypted keystore (TESSERA_NODE_KEY)')
    .option('--work-dir <dir>', 'scene cache and job folders (TESSERA_WORK_DIR)')
    .option('--name <name>', 'node name shown to the coordinator (TESSERA_NODE_NAME)')
    .option(
      '--ask-price-wei <wei>',
      'lowest price per work unit to render for (TESSERA_ASK_PRICE_WEI)',
    )
    .option('--blender <path>', 'Blender executable (BLENDER_PATH)')
    .option('--device <choice>', 'cpu, gpu, cuda, optix:0,1, hip:0 ... (TESSERA_DEVICE)')
    .option('--threads <n>', 'CPU render threads (TESSERA_THREADS)')
    .option('--render-timeout-ms <ms>', 'per tile; a render over it is killed and failed')
    .option('--poll-wait-ms <ms>', 'long-poll wait for work')
    .option('--max-memory-mb <mb>', 'per Blender process (prlimit + watchdog)')
    .option('--scene-cache-mb <mb>', 'scene cache cap on disk')
    .option('--no-pipeline', 'render one lease at a time (no prefetch, no background upload)')
    .option('--json', 'JSON log lines (for services) instead of text and progress bars')
    .option(
      '--password-file <file>',
      'keystore password file (else TESSERA_KEY_PASSWORD, else asked)',
    )
    .showHelpAfterError();

  program
    .command('init')
    .description('create (or --import) the node key and store it as an encrypted keystore')
    .option('--import <file>', 'take over a plain hex key file or a keystore')
    .option('--import-password-file <file>', 'password of the keystore being imported')
    .option('--force', 'replace an existing key (its address is lost unless backed up)')
    .action(
      action(
        async (
          opts: { import?: string; importPasswordFile?: string; force?: boolean },
          cmd: Command,
        ) => {
          const c = config(cmd);
          const address = await runInit(c, {
            ...opts,
            passwordFile: cmd.optsWithGlobals<GlobalFlags>().passwordFile,
          });
          console.log(
            `node key written to ${c.keyFile}\naddress (identity and payouts): ${address}`,
          );
        },
      ),
    );

  program
    .command('start')
    .description('render leased work until stopped (SIGTERM gives unfinished leases back)')
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        await runStart(config(cmd), {
          passwordFile: cmd.optsWithGlobals<GlobalFlags>().passwordFile,
        });
      }),
    );

  program
    .command('status')
    .description('this node: address, coordinator, cached scenes, unreported results, benchmark')
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        const c = config(cmd);
        const s = await readStatus(c);
        if (c.json) return void console.log(JSON.stringify(s));
        console.log(`address       ${s.address ?? '-'} (${s.key})`);
        console.log(
          `coordinator   ${s.coordinator.url}: ${s.coordinator.reachable ? 'reachable' : 'unreachable'} (${s.coordinator.detail})`,
        );
        console.log(
          `scenes        ${s.scenes.count} cached, ${(s.scenes.bytes / 2 ** 20).toFixed(1)} MiB`,
        );
        console.log(`unreported    ${s.pendingResults} finished tile(s)`);
        console.log(
          `benchmark     ${s.benchmark ? JSON.stringify(s.benchmark) : 'not run (render-node benchmark)'}`,
        );
      }),
    );

  program
    .command('benchmark')
    .description('render a fixed scene on the chosen devices; the score is sent at registration')
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        const c = config(cmd);
        const r = await runBenchmark(c, (l) => console.log(l));
        console.log(
          c.json ? JSON.stringify(r) : `score ${r.score} (million pixel-samples per second)`,
        );
      }),
    );

  program
    .command('doctor')
    .description('check Blender, devices, disk, the coordinator and the key')
    .action(
      action(async (_opts: unknown, cmd: Command) => {
        const c = config(cmd);
        const checks = await runDoctor(c);
        for (const ch of checks) {
          const mark = ch.ok ? (ch.warn ? 'warn' : ' ok ') : 'FAIL';
          console.log(c.json ? JSON.stringify(ch) : `[${mark}] ${ch.name.padEnd(12)} ${ch.detail}`);
        }
        if (checks.some((ch) => !ch.ok)) process.exitCode = 1;
      }),
    );

  // The operator's money: the ledger from the coordinator, the escrow through --rpc-url.
  const payoutOptions = (cmd: Command, opts: { rpcUrl?: string }) => ({
    rpcUrl: opts.rpcUrl,
    passwordFile: cmd.optsWithGlobals<GlobalFlags>().passwordFile,
  });
  const printBalances = (c: AgentConfig, r: { txHash: string } & OperatorBalances) =>
    console.log(c.json ? toJson(r) : [`tx ${r.txHash}`, ...describeBalances(r)].join('\n'));
  const rpcOption = new Option('--rpc-url <url>', 'EVM JSON-RPC of the escrow chain').env(
    'TESSERA_RPC_URL',
  );

  program
    .command('earnings')
    .description('what this node earned (coordinator ledger) and holds in the escrow')
    .addOption(rpcOption)
    .action(
      action(async (opts: { rpcUrl?: string }, cmd: Command) => {
        const c = config(cmd);
        const r = await runEarnings(c, payoutOptions(cmd, opts));
        console.log(c.json ? toJson(r) : describeEarnings(r).join('\n'));
      }),
    );

  program
    .command('stake <amount>')
    .description('stake ETH in the escrow (e.g. 0.5, or 500wei); coordinators may require some')
    .addOption(rpcOption)
    .action(
      action(async (amount: string, opts: { rpcUrl?: string }, cmd: Command) => {
        const c = config(cmd);
        printBalances(c, await runStake(c, amount, payoutOptions(cmd, opts)));
      }),
    );

  program
    .command('unstake [amount]')
    .description('start unstaking (it can still be slashed until the delay passes), or --complete')
    .option('--complete', 'finish an unstake whose delay has passed (moves it to withdrawable)')
    .addOption(rpcOption)
    .action(
      action(
        async (
          amount: string | undefined,
          opts: { rpcUrl?: string; complete?: boolean },
          cmd: Command,
        ) => {
          const c = config(cmd);
          printBalances(
            c,
            await runUnstake(c, amount, { ...payoutOptions(cmd, opts), complete: opts.complete }),
          );
        },
      ),
    );

  program
    .command('withdraw')
    .description('send everything withdrawable (earnings, completed unstakes) to the node address')
    .addOption(rpcOption)
    .action(
      action(async (opts: { rpcUrl?: string }, cmd: Command) => {
        const c = config(cmd);
        printBalances(c, await runWithdraw(c, payoutOptions(cmd, opts)));
      }),
    );

  program.addOption(new Option('--debug').hideHelp().env('TESSERA_DEBUG'));
  return program;
}

if (require.main === module) {
  buildCli().parseAsync(process.argv).catch(exitWith);
}
