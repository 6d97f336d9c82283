// Nest 12 ships ES modules only: swc transforms them for jest, which loads CommonJS on Node 20.
// Two projects: colocated unit specs (no services) and e2e tests in test/ against real services.
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];
const moduleNameMapper = {
  '^@tessera/verification$': '<rootDir>/libs/verification/src',
  '^@tessera/protocol$': '<rootDir>/libs/protocol/src',
  '^@tessera/blender$': '<rootDir>/libs/blender/src',
  '^@tessera/escrow$': '<rootDir>/libs/escrow/src',
};
module.exports = {
  // jest reads testTimeout only at the top level, not per project
  testTimeout: 180000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/scripts'],
      testMatch: ['**/*.spec.ts'],
      transform: { '^.+\\.(t|j|mj)s$': swc },
      transformIgnorePatterns: ['/node_modules/(?!@nestjs/)'],
      moduleNameMapper,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      transform: { '^.+\\.(t|j|mj)s$': swc },
      transformIgnorePatterns: ['/node_modules/(?!@nestjs/)'],
      moduleNameMapper,
      globalSetup: '<rootDir>/test/support/global-setup.ts',
    },
  ],
};
