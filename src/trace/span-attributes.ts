/**
 * How Kong's span data travels on OTel spans, between the span model (which writes it) and
 * the Zipkin encoder (which reads it). Kong tags are plain attributes with Kong's names;
 * Kong annotations are span events named by their code (`krs`, `khs`, …) with their own
 * timestamps; kinds are SERVER / CLIENT.
 */

/** Remote endpoint IP (`remoteEndpoint.ipv4` / `ipv6`), OTel semantic conventions. */
export const ATTR_PEER_ADDRESS = 'network.peer.address';
/** Remote endpoint port (`remoteEndpoint.port`). */
export const ATTR_PEER_PORT = 'network.peer.port';
/** Remote endpoint service name (`remoteEndpoint.serviceName`): the Kong service name. */
export const ATTR_PEER_SERVICE = 'peer.service';

/**
 * Attributes under this prefix are the plugin's bookkeeping, never reported as tags by the
 * Zipkin encoder (a stock exporter would show them).
 */
export const INTERNAL_ATTR_PREFIX = 'gateway_zipkin.';

/**
 * Set to 8 when the trace id was generated with `traceid_byte_count: 8`: Kong then reports
 * a 16-character `traceId` (§2.11), while OTel always carries 32 characters.
 */
export const ATTR_TRACE_ID_BYTES = 'gateway_zipkin.trace_id_bytes';

/** Attributes the encoder maps to endpoints, so they are not repeated as tags. */
export const ENDPOINT_ATTRS: ReadonlySet<string> = new Set([ATTR_PEER_ADDRESS, ATTR_PEER_PORT, ATTR_PEER_SERVICE]);
