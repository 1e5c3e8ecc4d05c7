/**
 * The setup the README warns against, for the safety-net test: a NodeSDK whose http
 * instrumentation is not kept off the gateway's requests. Preloaded with `--require`.
 */
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';

new NodeSDK({ traceExporter: new InMemorySpanExporter(), instrumentations: [new HttpInstrumentation()] }).start();
