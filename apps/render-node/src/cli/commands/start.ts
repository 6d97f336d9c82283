import { Agent } from '../../agent/agent';
import { NodeCapabilities, probeCapabilities } from '../../agent/capabilities';
import { AgentConfig } from '../../config/agent-config';
import { CoordinatorClient } from '../../coordinator/coordinator-client';
import { keyFileKind, loadNodeKey, loadOrCreatePlainNodeKey } from '../../identity/node-key';
import { createOutput } from '../output';
import { passwordSource } from '../password';
import { readBenchmark } from './benchmark';

export interface StartOptions {
  passwordFile?: string;
  /**
   * npm run render-node (demo, tests): a missing key file is created as a plain hex key instead
   * of asking for `render-node init`.
   */
  legacyKey?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** Runs the agent until SIGTERM/SIGINT, which give back unfinished leases before exiting. */
export async function runStart(config: AgentConfig, opts: StartOptions = {}): Promise<void> {
  const password = passwordSource({ passwordFile: opts.passwordFile, env: opts.env });
  const kind = await keyFileKind(config.keyFile);
  const wallet = opts.legacyKey
    ? await loadOrCreatePlainNodeKey(config.keyFile, password)
    : await loadNodeKey(config.keyFile, password);
  const out = createOutput({
    json: config.json,
    prefix: `render-node ${wallet.address.slice(0, 10)}`,
  });
  if (kind === 'plain' && !opts.legacyKey) {
    out.log(
      `warning: ${config.keyFile} is a plain (unencrypted) key; "render-node init --import ${config.keyFile}" encrypts it`,
    );
  }
  const capabilities: NodeCapabilities = await probeCapabilities({
    blenderPath: config.blenderPath,
    device: config.device,
    threads: config.threads,
    workDir: config.workDir,
  });
  const benchmark = await readBenchmark(config, capabilities);
  if (benchmark) capabilities.benchmark = benchmark;
  out.log(
    `Blender ${capabilities.blenderVersion}, rendering on ${capabilities.slots.map((s) => `${s.id} (${s.name})`).join(', ')}` +
      (benchmark ? `, benchmark score ${benchmark.score}` : ''),
    { event: 'capabilities', capabilities },
  );
  const agent = new Agent(new CoordinatorClient(config.coordinator, wallet), {
    workDir: config.workDir,
    blenderPath: config.blenderPath,
    threads: config.threads,
    renderTimeoutMs: config.renderTimeoutMs,
    pollWaitMs: config.pollWaitMs,
    name: config.name,
    askPriceWei: config.askPriceWei,
    device: config.device,
    maxMemoryBytes: config.maxMemoryMb ? config.maxMemoryMb * 2 ** 20 : undefined,
    sceneCacheBytes: config.sceneCacheMb * 2 ** 20,
    pipeline: config.pipeline,
    capabilities,
    log: out.log,
    onProgress: out.progress,
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      out.log(`${signal}: giving back unfinished leases and stopping`, { event: 'stopping' });
      void agent.stop().then(() => {
        out.close();
        process.exit(0);
      });
    });
  }
  await agent.start();
}
