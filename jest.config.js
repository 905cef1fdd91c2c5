// One `npm test` runs every suite: unit specs beside the code (service/src, tools) and the
// e2e specs that boot the real app (service/test). ts-jest transpiles only; `npm run typecheck`
// (tsc --noEmit) is the type gate, so tests stay fast.
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: true, diagnostics: false }];

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 60000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: '<rootDir>/service/test/support/native-realm.environment.js',
      roots: ['<rootDir>/service/src', '<rootDir>/tools', '<rootDir>/bench'],
      testMatch: ['**/*.spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'e2e',
      testEnvironment: '<rootDir>/service/test/support/native-realm.environment.js',
      roots: ['<rootDir>/service/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
  ],
};
