/**
 * gateway-zipkin: Kong Gateway's Zipkin plugin for Node.js gateways, on OpenTelemetry JS.
 */
export type { Logger } from './logger';
export { silentLogger, stderrLogger } from './logger';
export * from './config';
export * from './propagation';
