/**
 * A safety net for the proxy call: an OTel http instrumentation that was not kept off the
 * gateway's requests creates its own CLIENT span for the upstream request and injects the
 * global propagator's headers, overwriting Kong's (the upstream would see OTel's span as
 * parent, or two trace ids). The trace headers of the outgoing request are put back to what
 * Kong's engine wrote, and the misconfiguration is said once per plugin.
 */
import type { ClientRequest, IncomingHttpHeaders } from 'node:http';
import type { Logger } from '../logger';
import { EXTRACTORS } from '../propagation/formats';

/** Every trace header name of the nine formats (what extraction reads and injection writes). */
const TRACE_HEADERS: readonly string[] = [...new Set(Object.values(EXTRACTORS).flatMap((e) => e.triggers))];

const warned = new WeakSet<Logger>();

function same(a: number | string | readonly string[] | undefined, b: string | string[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const left = Array.isArray(a) ? a.join(', ') : String(a);
  return left === (Array.isArray(b) ? b.join(', ') : b);
}

/**
 * Puts the trace headers of `outgoing` back to `expected` (the headers the proxy copied,
 * after Kong's clear and inject) and warns once if anything had to change.
 */
export function restoreTraceHeaders(outgoing: ClientRequest, expected: IncomingHttpHeaders, logger: Logger): void {
  let changed: string[] | undefined;
  for (let i = 0; i < TRACE_HEADERS.length; i++) {
    const name = TRACE_HEADERS[i];
    const want = expected[name];
    if (same(outgoing.getHeader(name), want)) continue;
    if (want === undefined) outgoing.removeHeader(name);
    else outgoing.setHeader(name, want);
    (changed ??= []).push(name);
  }
  if (changed !== undefined && !warned.has(logger)) {
    warned.add(logger);
    logger.warn(
      `another instrumentation changed the upstream request's trace headers (${changed.join(', ')}); ` +
        "Kong's were restored. Keep it off the gateway's requests: ignoreGatewayRequests() as the " +
        "http instrumentation's ignoreIncomingRequestHook, or zipkinRoute() before the proxy",
    );
  }
}
