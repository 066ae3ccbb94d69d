/**
 * One jest run covers unit specs beside the code (apps/, libs/) and the
 * end-to-end suites in test/. The project is ESM (NestJS 12 ships ESM only),
 * so jest runs in its native ESM mode and ts-jest emits ESM.
 */
const aliases = {
  '^@app/(alerting|database|platform|token-store|socket-registry)$': '<rootDir>/libs/$1/src/index.ts',
  // the client SDK is tested from its TypeScript source, not from its build
  '^@push-gateway/client$': '<rootDir>/packages/client/src/index.ts',
};

export default {
  rootDir: '.',
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'],
  testRegex: '\\.(spec|e2e-spec)\\.ts$',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.json' }],
  },
  moduleNameMapper: {
    ...aliases,
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  globalSetup: '<rootDir>/test/support/processes/global-setup.ts',
  setupFiles: ['<rootDir>/test/support/quiet-logs.ts'],
  // suites start real apps and processes; on a loaded 2-core machine that alone can take half a minute
  testTimeout: 90000,
  maxWorkers: 2,
};
