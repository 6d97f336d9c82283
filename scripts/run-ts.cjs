// Runs a TypeScript script without a build: @swc/core (a devDependency jest already uses) strips
// the types through a require hook, then the script's exported main() runs and sets the exit code.
// Same runner as scripts/setup.sh uses for migrate.ts.  Usage: node scripts/run-ts.cjs <file.ts> [args]
const fs = require('node:fs');
const path = require('node:path');
const swc = require('@swc/core');

require.extensions['.ts'] = (module, filename) => {
  const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    swcrc: false,
    sourceMaps: 'inline',
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};

const [file, ...args] = process.argv.slice(2);
require(path.resolve(file))
  .main(args)
  .then((code) => {
    process.exitCode = code;
  });
