export type { TraceContext, RequestHeaders, HeaderWriter, HeaderValue } from './context';
export { PropagationEngine, type ExtractResult, type LogTraceIds } from './engine';
export {
  KongPropagator,
  createPropagator,
  getExtracted,
  type PropagationInput,
  type PropagatorOptions,
} from './otel-propagator';
export { MAX_BAGGAGE_BYTES, MAX_BAGGAGE_ITEM_BYTES, MAX_BAGGAGE_ITEMS, MAX_TRACE_HEADER_BYTES } from './limits';
