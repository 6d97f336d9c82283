import { Agent } from './agent/agent';
import { loadAgentConfig } from './config/agent-config';
import { CoordinatorClient } from './coordinator/coordinator-client';
import { loadOrCreateNodeKey } from './identity/node-key';

async function main() {
  const config = loadAgentConfig();
  const wallet = await loadOrCreateNodeKey(config.TESSERA_NODE_KEY);
  const log = (line: string) => console.log(`[render-node ${wallet.address.slice(0, 10)}] ${line}`);
  const agent = new Agent(new CoordinatorClient(config.TESSERA_COORDINATOR, wallet), {
    workDir: config.TESSERA_WORK_DIR,
    blenderPath: config.BLENDER_PATH,
    threads: config.TESSERA_THREADS,
    renderTimeoutMs: config.TESSERA_RENDER_TIMEOUT_MS,
    pollWaitMs: config.TESSERA_POLL_WAIT_MS,
    name: config.TESSERA_NODE_NAME,
    log,
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log(`${signal}: releasing the current lease and stopping`);
      void agent.stop().then(() => process.exit(0));
    });
  }
  await agent.start();
}

main().catch((e: Error) => {
  console.error(`render-node: ${e.message}`);
  process.exit(1);
});
