/**
 * Recipe "a service that registers its own provider", part 1: a `NodeTracerProvider` with
 * the service's exporter, registered with Kong's propagator, and the instrumentations
 * registered against it. Loaded before anything else (`node --require ./tracing.js
 * service.js`) so that the http instrumentation patches `http` before the service loads it.
 *
 * Two lines matter for the gateway:
 * - `ignoreGatewayRequests` keeps the http instrumentation off the gateway's requests
 *   (Kong's plugin traces them: no second SERVER span, no CLIENT span overwriting the
 *   headers Kong injected);
 * - the propagator goes to `provider.register({ propagator })`: a later
 *   `propagation.setGlobalPropagator()` would return false and do nothing.
 */
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { createPropagator, ignoreGatewayRequests } from 'gateway-zipkin';

export const GATEWAY_PATH = '/gateway';

export const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'billing-service' }),
  spanProcessors: [
    new BatchSpanProcessor(
      new OTLPTraceExporter({ url: process.env.OTLP_ENDPOINT ?? 'http://127.0.0.1:4318/v1/traces' }),
    ),
  ],
});
// The service's own outgoing calls speak the same formats as the gateway: b3 out, b3 or W3C in.
provider.register({
  propagator: createPropagator({ default_format: 'b3', extract: ['b3', 'w3c'], inject: ['preserve'] }),
});

registerInstrumentations({
  tracerProvider: provider,
  instrumentations: [new HttpInstrumentation({ ignoreIncomingRequestHook: ignoreGatewayRequests([GATEWAY_PATH]) })],
});
