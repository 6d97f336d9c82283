// `npm run render-node`: the agent configured from the environment alone (the demo, tests and
// benchmarks start it this way). A missing key file is created as a plain key here; operators
// use the `render-node` CLI (cli.ts), whose `init` writes an encrypted keystore.
import { exitWith } from './cli';
import { runStart } from './cli/commands/start';
import { loadAgentConfig } from './config/agent-config';

async function main() {
  await runStart(loadAgentConfig({ env: process.env }), { legacyKey: true, env: process.env });
}

main().catch(exitWith);
