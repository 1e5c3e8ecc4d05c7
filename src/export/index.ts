/** The reporting half: Kong's queue, the Zipkin encoders, the HTTP sender, the OTel glue. */
export { KongQueue } from './queue';
export type { KongQueueOptions, QueueHandler, QueueHealth, QueueDropCounts } from './queue';
export { KongQueueSpanProcessor, estimateSpanSize, DEFAULT_EXPORT_TIMEOUT_MS } from './queue-span-processor';
export type { KongQueueSpanProcessorOptions } from './queue-span-processor';
export { ZipkinExporter } from './zipkin-exporter';
export type { ZipkinExporterOptions, ZipkinEncoding, ZipkinEncodedSpan } from './zipkin-exporter';
export { isPreEncodingSpanExporter } from './encoded-exporter';
export type { PreEncodingSpanExporter } from './encoded-exporter';
export { HttpSender, ZipkinSendError } from './http-sender';
export type { HttpSenderOptions } from './http-sender';
export { toZipkinSpan, durationMicros } from './zipkin-span';
export { ZipkinJsonEncoder } from './zipkin-json-encoder';
export { zipkinJsonBody } from './zipkin-json-body';
export type { ZipkinSpan, ZipkinEndpoint, ZipkinAnnotation, ZipkinKind, ZipkinSpanOptions } from './zipkin-span';
export { encodeProto3Span, proto3ListBody } from './zipkin-proto3';
export { createZipkinReporter, EXPORT_TIMEOUT_MARGIN_MS } from './reporter';
export type { ZipkinReporterOptions } from './reporter';
