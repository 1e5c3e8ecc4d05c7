/**
 * Which requests of a service are gateway requests: path prefixes (`/gateway` matches
 * `/gateway` and `/gateway/…`, not `/gatewayx`) or a predicate. Used to scope `traceServer`
 * and to keep an OTel http instrumentation off the gateway's requests.
 */
import type { IncomingMessage } from 'node:http';

export type GatewayScope = readonly string[] | ((req: IncomingMessage) => boolean);

/** A predicate for `scope`. */
export function scopeMatcher(scope: GatewayScope): (req: IncomingMessage) => boolean {
  if (typeof scope === 'function') return scope;
  const prefixes = scope.map((p) => (p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p));
  return (req) => {
    const url = req.url ?? '/';
    for (const prefix of prefixes) {
      if (prefix === '/' || prefix === '') return true;
      if (url.startsWith(prefix)) {
        const next = url.charCodeAt(prefix.length);
        // end, '/', '?' or '#'
        if (Number.isNaN(next) || next === 47 || next === 63 || next === 35) return true;
      }
    }
    return false;
  };
}

/**
 * An `ignoreIncomingRequestHook` for `@opentelemetry/instrumentation-http` that ignores the
 * gateway's requests (and what `otherwise` ignores). The instrumentation then runs them with
 * tracing suppressed: no SERVER span beside Kong's request span, and no CLIENT span for the
 * proxy call that would overwrite the propagation headers Kong's engine injected.
 *
 *     new HttpInstrumentation({ ignoreIncomingRequestHook: ignoreGatewayRequests(['/gateway']) })
 */
export function ignoreGatewayRequests(
  scope: GatewayScope,
  otherwise?: (req: IncomingMessage) => boolean,
): (req: IncomingMessage) => boolean {
  const matches = scopeMatcher(scope);
  return otherwise === undefined ? matches : (req) => matches(req) || otherwise(req);
}
