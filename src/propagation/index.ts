export type { TraceContext, RequestHeaders, HeaderWriter, HeaderValue } from './context';
export { PropagationEngine, type ExtractResult, type LogTraceIds } from './engine';
export { KongPropagator, createPropagator, getExtracted, type PropagationInput, type PropagatorOptions } from './otel-propagator';
