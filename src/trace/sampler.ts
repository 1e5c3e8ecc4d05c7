import { type Context, createContextKey, type Link, type SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { type Sampler, SamplingDecision, type SamplingResult } from '@opentelemetry/sdk-trace-base';
import { getExtracted } from '../propagation/otel-propagator';

/**
 * Kong's sampling (§3) as an OTel `Sampler`: an incoming decision wins, otherwise
 * `Math.random() < sample_ratio` per trace (not OTel's trace-id ratio: Kong draws a fresh
 * random number per request, so `1` always samples and `0` never does).
 *
 * Where the decision comes from, first match wins:
 * 1. a decision put in the context with `withSamplingDecision` (the plugin decides before
 *    it builds spans, and the sampler must agree);
 * 2. a local parent span: children follow their parent;
 * 3. a Kong context extracted by this package's propagator (`createPropagator`): its
 *    true / false decision, or the ratio when the incoming headers carried none;
 * 4. a remote parent from another propagator: its sampled flag;
 * 5. otherwise the ratio.
 */
export class KongSampler implements Sampler {
  private readonly ratio: number;

  constructor(sampleRatio: number) {
    this.ratio = sampleRatio;
  }

  shouldSample(
    context: Context,
    _traceId: string,
    _spanName: string,
    _spanKind: SpanKind,
    _attributes: unknown,
    _links: Link[],
  ): SamplingResult {
    return this.decide(context) ? SAMPLED : NOT_SAMPLED;
  }

  private decide(context: Context): boolean {
    const forced = context.getValue(DECISION_KEY);
    if (forced === true || forced === false) return forced;
    const parent = trace.getSpanContext(context);
    if (parent !== undefined && parent.isRemote !== true && trace.isSpanContextValid(parent)) {
      return (parent.traceFlags & TraceFlags.SAMPLED) !== 0;
    }
    const extracted = getExtracted(context);
    if (extracted !== undefined && extracted.context !== undefined) {
      const incoming = extracted.context.shouldSample;
      return incoming === undefined ? Math.random() < this.ratio : incoming;
    }
    if (parent !== undefined && trace.isSpanContextValid(parent)) {
      return (parent.traceFlags & TraceFlags.SAMPLED) !== 0;
    }
    return Math.random() < this.ratio;
  }

  toString(): string {
    return `KongSampler{sample_ratio=${this.ratio}}`;
  }
}

const DECISION_KEY = createContextKey('gateway-zipkin sampling decision');
const SAMPLED: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD_AND_SAMPLED });
const NOT_SAMPLED: SamplingResult = Object.freeze({ decision: SamplingDecision.NOT_RECORD });

/** A context carrying a decision already taken, which `KongSampler` then returns as is. */
export function withSamplingDecision(context: Context, sampled: boolean): Context {
  return context.setValue(DECISION_KEY, sampled);
}
