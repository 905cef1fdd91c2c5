// One `npm test` runs every suite: unit specs beside the code (service/src, tools) and the
// e2e specs that boot the real app (service/test). ts-jest transpiles only; `npm run typecheck`
// (tsc --noEmit) is the type gate, so tests stay fast. isolatedModules goes in as a compiler
// option (tsconfig.json is still read): the ts-jest option of that name is deprecated and warned
// about in every run.
const tsJest = ['ts-jest', { tsconfig: { isolatedModules: true }, diagnostics: false }];

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 60000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: '<rootDir>/service/test/support/native-realm.environment.js',
      roots: ['<rootDir>/service/src', '<rootDir>/tools', '<rootDir>/bench'],
      testMatch: ['**/*.spec.ts'],
      setupFiles: ['<rootDir>/service/test/support/quiet-nest-logger.js'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'e2e',
      testEnvironment: '<rootDir>/service/test/support/native-realm.environment.js',
      roots: ['<rootDir>/service/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      setupFiles: ['<rootDir>/service/test/support/quiet-nest-logger.js'],
      transform: { '^.+\\.ts$': tsJest },
    },
  ],
};
