'use strict';
// Type checking happens in `npm run build` (tsc over src, test, examples); jest only transpiles.
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testTimeout: 20000,
};
