/**
 * Recipe "NodeSDK service with a gateway path", part 1: the service's OpenTelemetry setup,
 * loaded before anything else (`node --require ./instrumentation.js service.js`), as the
 * NodeSDK wants, so that its instrumentations patch http and express.
 *
 * The one line that matters for the gateway: the http instrumentation ignores the gateway's
 * requests. Kong's plugin traces them (one SERVER span, Kong's), and the instrumentation,
 * which then runs them with tracing suppressed, neither adds its own SERVER span nor a
 * CLIENT span for the proxy call that would overwrite the headers Kong injected.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ignoreGatewayRequests } from 'gateway-zipkin';

export const GATEWAY_PATH = '/gateway';

export const sdk = new NodeSDK({
  serviceName: 'orders-service',
  traceExporter: new OTLPTraceExporter({ url: process.env.OTLP_ENDPOINT ?? 'http://127.0.0.1:4318/v1/traces' }),
  instrumentations: [
    new HttpInstrumentation({ ignoreIncomingRequestHook: ignoreGatewayRequests([GATEWAY_PATH]) }),
    new ExpressInstrumentation(),
  ],
});
sdk.start();
