/**
 * gateway-zipkin: Kong Gateway's Zipkin plugin for Node.js gateways, on OpenTelemetry JS.
 *
 * This list is the package's public API (the `exports` map allows no deeper import); a name
 * leaves it only in a major version. Everything else under src/ is internal.
 */
export { type Logger, silentLogger, stderrLogger } from './logger';

// Kong's `config` record: types, validation, the legacy propagation mapping.
export type {
  EffectivePropagation,
  ExtractFormat,
  HeaderType,
  InjectFormat,
  PropagationConfig,
  QueueConfig,
  StaticTag,
  ZipkinConfig,
  ZipkinConfigInput,
} from './config/types';
export { ConfigError, type ConfigIssue } from './config/errors';
export { validateConfig, type ValidateOptions } from './config/validate';
export { deprecationWarnings, effectivePropagation } from './config/propagation';

// Kong's nine propagation formats, as an engine and as an OTel propagator.
export type { HeaderValue, HeaderWriter, RequestHeaders, TraceContext } from './propagation/context';
export { PropagationEngine, type ExtractResult, type LogTraceIds } from './propagation/engine';
export {
  createPropagator,
  getExtracted,
  type KongPropagator,
  type PropagationInput,
  type PropagatorOptions,
} from './propagation/otel-propagator';

// The plugin and the request trace it hands to integrations.
export { createZipkinPlugin, type ZipkinPlugin, type ZipkinPluginOptions } from './plugin';
export type { RequestTrace } from './trace/request-trace';
export type {
  HttpRequestLike,
  KongAuthEntity,
  KongEntity,
  RouteIdentity,
  StreamClientLike,
  UpstreamTarget,
} from './trace/request-inputs';
export { KongSampler, withSamplingDecision } from './trace/sampler';

// Integrations: Express, http-proxy-middleware, node:http, node:net.
export { zipkinMiddleware, zipkinRoute, type ZipkinRouteOptions } from './integrations/express';
export { zipkinProxyPlugin } from './integrations/http-proxy-middleware';
export { traceHttp, traceServer, type TraceServerOptions } from './integrations/node-http';
export { ignoreGatewayRequests, type GatewayScope } from './integrations/gateway-scope';
export { trackUpstreamRequest, trackUpstreamSocket } from './integrations/balancer-tries';
export { traceConnection, proxyTcp, type TcpProxyOptions } from './integrations/node-net';

// Reporting: Kong's queue as an OTel span processor, the Zipkin exporter.
export { createZipkinReporter, type ZipkinReporterOptions } from './export/reporter';
export { KongQueueSpanProcessor, type KongQueueSpanProcessorOptions } from './export/queue-span-processor';
export type { QueueDeliveryResult, QueueDropCounts, QueueHealth } from './export/queue';
export type { SpanListSender } from './export/span-list-sender';
export { ZipkinExporter, type ZipkinEncoding, type ZipkinExporterOptions } from './export/zipkin-exporter';
