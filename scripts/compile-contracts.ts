// Compiles the Solidity sources with solc-js and writes the escrow artifact that @tessera/escrow
// imports (libs/escrow/src/artifacts/TesseraEscrow.json, committed). The settings are fixed and the
// metadata hash is left out of the bytecode, so the same sources and the same solc always give the
// same artifact: libs/escrow/src/artifacts.spec.ts recompiles and compares.
//
//   npm run contracts            rewrite the artifact
//   npm run contracts -- --check exit 1 when the committed artifact is stale
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import solc from 'solc';
import { repoRoot } from './lib/repo-root';

export const ESCROW_SOURCE = 'contracts/escrow/TesseraEscrow.sol';
export const ESCROW_ARTIFACT = 'libs/escrow/src/artifacts/TesseraEscrow.json';

// Pinned so the bytecode does not change with the compiler's default; cancun is what every major
// EVM chain and hardhat's node (see libs/escrow/hardhat.config.js) run.
export const SOLC_SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'cancun',
  metadata: { bytecodeHash: 'none' },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
} as const;

export interface CompiledContract {
  contractName: string;
  sourcePath: string;
  abi: unknown[];
  bytecode: string;
}

export interface Compilation {
  contracts: CompiledContract[];
  solcVersion: string;
  /** sha256 over the settings and every source unit that went into the compilation. */
  sourceHash: string;
}

export interface ContractArtifact {
  contractName: string;
  abi: unknown[];
  bytecode: string;
  solcVersion: string;
  sourceHash: string;
}

interface SolcMessage {
  severity: 'error' | 'warning' | 'info';
  formattedMessage: string;
  sourceLocation?: { file: string };
}

interface SolcOutput {
  errors?: SolcMessage[];
  contracts?: Record<
    string,
    Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>
  >;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Compiles `entries` (paths relative to the repository root). Imports resolve inside the
 * repository: `@scope/pkg/...` from node_modules, anything else from the root.
 */
export function compileSolidity(entries: string[], root = repoRoot()): Compilation {
  const loaded = new Map<string, string>();
  const read = (unit: string): string => {
    for (const base of [join(root, 'node_modules'), root]) {
      const file = resolve(base, unit);
      if (!file.startsWith(root + sep) || !existsSync(file)) continue;
      const content = readFileSync(file, 'utf8');
      loaded.set(unit, content);
      return content;
    }
    throw new Error(`solidity import not found: ${unit}`);
  };
  const sources = Object.fromEntries(entries.map((entry) => [entry, { content: read(entry) }]));
  const input = { language: 'Solidity', sources, settings: SOLC_SETTINGS };
  const findImports = (unit: string) => {
    try {
      return { contents: read(unit) };
    } catch (error) {
      return { error: (error as Error).message };
    }
  };
  const output = JSON.parse(
    solc.compile(JSON.stringify(input), { import: findImports }),
  ) as SolcOutput;
  const errors = (output.errors ?? []).filter((m) => m.severity === 'error');
  if (errors.length) {
    throw new Error(`solc failed:\n${errors.map((m) => m.formattedMessage).join('\n')}`);
  }
  // Our sources compile without warnings. Dependencies may warn about what they do on purpose
  // (OpenZeppelin's transient-storage reentrancy guard triggers solc's generic EIP-1153 warning).
  const warnings = (output.errors ?? []).filter(
    (m) => m.severity === 'warning' && !m.sourceLocation?.file.startsWith('@'),
  );
  if (warnings.length) {
    throw new Error(
      `solc warnings (fix them):\n${warnings.map((m) => m.formattedMessage).join('\n')}`,
    );
  }

  const contracts: CompiledContract[] = [];
  for (const entry of entries) {
    for (const [contractName, out] of Object.entries(output.contracts?.[entry] ?? {})) {
      contracts.push({
        contractName,
        sourcePath: entry,
        abi: out.abi,
        bytecode: `0x${out.evm.bytecode.object}`,
      });
    }
  }
  const units = [...loaded.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([unit, content]) => [unit, sha256(content)]);
  return {
    contracts,
    solcVersion: solc.version() as string,
    sourceHash: sha256(JSON.stringify({ settings: SOLC_SETTINGS, units })),
  };
}

/** One named contract of a compilation, as an artifact. */
export function artifactOf(compilation: Compilation, contractName: string): ContractArtifact {
  const contract = compilation.contracts.find((c) => c.contractName === contractName);
  if (!contract) throw new Error(`no contract ${contractName} in the compilation`);
  return {
    contractName,
    abi: contract.abi,
    bytecode: contract.bytecode,
    solcVersion: compilation.solcVersion,
    sourceHash: compilation.sourceHash,
  };
}

export function buildEscrowArtifact(root = repoRoot()): ContractArtifact {
  return artifactOf(compileSolidity([ESCROW_SOURCE], root), 'TesseraEscrow');
}

/** The artifact file's text: prettier-formatted JSON, so `npm run lint` accepts it as written. */
export async function formatArtifact(artifact: ContractArtifact, file: string): Promise<string> {
  const prettier = await import('prettier');
  const options = await prettier.resolveConfig(file);
  return prettier.format(JSON.stringify(artifact), { ...options, parser: 'json' });
}

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const root = repoRoot(__dirname);
  const target = join(root, ESCROW_ARTIFACT);
  try {
    const artifact = buildEscrowArtifact(root);
    const text = await formatArtifact(artifact, target);
    const where = relative(root, target);
    if (argv.includes('--check')) {
      const current = existsSync(target) ? readFileSync(target, 'utf8') : '';
      if (current !== text) {
        console.error(`contracts: ${where} is stale; run \`npm run contracts\``);
        return 1;
      }
      console.log(`contracts: ${where} is up to date (${artifact.sourceHash.slice(0, 12)})`);
      return 0;
    }
    if (!existsSync(dirname(target))) throw new Error(`missing directory ${dirname(target)}`);
    writeFileSync(target, text);
    const size = (artifact.bytecode.length - 2) / 2;
    console.log(
      `contracts: wrote ${where} (${artifact.solcVersion}, ${size} bytes of init code, source ${artifact.sourceHash.slice(0, 12)})`,
    );
    return 0;
  } catch (error) {
    console.error(`contracts: ${(error as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
