/** Kong's span model on OTel: clock, ids, sampler, tags header, request traces, span building. */
export { nowMicros, microsToHrTime, hrTimeToMicros } from './clock';
export { randomHex, randomSpanId, randomTraceId } from './ids';
export { SlotIdGenerator } from './id-generator';
export { KongSampler, withSamplingDecision } from './sampler';
export { parseTagsHeader, type ParsedTags } from './tags-header';
export { normalizePath, hostOf, protocolOf } from './http-values';
export {
  type HeaderTarget,
  type OutgoingHeadersLike,
  type ResponseHeadersLike,
  appendResponseHeader,
  headerWriterFor,
} from './header-targets';
export { RequestTrace } from './request-trace';
export { BalancerTry, type BalancerState } from './balancer-try';
export type {
  HttpRequestLike,
  KongAuthEntity,
  KongEntity,
  RouteIdentity,
  StreamClientLike,
  UpstreamTarget,
} from './request-inputs';
export type { SpanBuilder, TraceRuntime } from './runtime';
export { OwnProviderSpans, ReusedProviderSpans } from './span-builder';
export * from './span-attributes';
