'use strict';
// Type checking happens in `npm run build` (tsc over src, test, examples); jest only transpiles.
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The real-backend suite is `npm run test:backends` (jest.backends.config.js): `npm test` needs only Node.
  testPathIgnorePatterns: ['/node_modules/', '\\.backend\\.test\\.ts$'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testTimeout: 20000,
};
