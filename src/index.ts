/**
 * gateway-zipkin: Kong Gateway's Zipkin plugin for Node.js gateways, on OpenTelemetry JS.
 */
export type { Logger } from './logger';
export { silentLogger, stderrLogger } from './logger';
export * from './config';
export * from './propagation';
export { createZipkinPlugin, ZipkinPlugin, type ZipkinPluginOptions } from './plugin';
export {
  zipkinMiddleware,
  zipkinRoute,
  zipkinProxyPlugin,
  traceHttp,
  traceServer,
  trackUpstreamRequest,
  trackUpstreamSocket,
  traceConnection,
  proxyTcp,
  type ZipkinRouteOptions,
  type TcpProxyOptions,
} from './integrations';
export {
  KongSampler,
  withSamplingDecision,
  parseTagsHeader,
  type ParsedTags,
  RequestTrace,
  type RouteIdentity,
  type KongAuthEntity,
  type UpstreamTarget,
  ATTR_PEER_ADDRESS,
  ATTR_PEER_PORT,
  ATTR_PEER_SERVICE,
  ATTR_TRACE_ID_BYTES,
} from './trace';
export {
  ZipkinExporter,
  KongQueueSpanProcessor,
  KongQueue,
  createZipkinReporter,
  estimateSpanSize,
  type ZipkinExporterOptions,
  type ZipkinEncoding,
  type KongQueueSpanProcessorOptions,
  type ZipkinReporterOptions,
  type QueueHealth,
  type QueueDropCounts,
} from './export';
