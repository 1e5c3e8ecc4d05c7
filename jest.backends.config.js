'use strict';
// `npm run test:backends`: the real Zipkin, Kafka, RabbitMQ and Jaeger, installed by
// scripts/backends/install.sh. Run in band: the backends are JVMs and beam on 2 cores.
const base = require('./jest.config');
module.exports = {
  ...base,
  roots: ['<rootDir>/test/backends'],
  testMatch: ['**/*.backend.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 180000,
};
