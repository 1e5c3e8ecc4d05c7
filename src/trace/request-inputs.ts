/**
 * What integrations hand a request trace: the Kong route and service identity, the
 * consumer, an upstream try's target, and the parts of Node's request and socket objects
 * the plugin reads (structural types, so any look-alike fits).
 */
import type { RequestHeaders } from '../propagation/context';

/** A Kong route or service as far as the tags need it (§2.5). */
export interface KongEntity {
  readonly id?: string | null;
  readonly name?: string | null;
}

/** An authenticated consumer or credential: only its id is reported. */
export interface KongAuthEntity {
  readonly id: string;
}

/** Route and service identity of a request, given where the route is mounted. */
export interface RouteIdentity {
  readonly route?: KongEntity | null;
  readonly service?: KongEntity | null;
}

/** The upstream target of a balancer try. */
export interface UpstreamTarget {
  /** Target host name as configured (`peer.hostname`), e.g. `127.0.0.1` or `orders.internal`. */
  readonly hostname?: string;
  /** Resolved IP, when known before connecting. */
  readonly ip?: string;
  readonly port?: number;
}

/** What the plugin reads from an incoming HTTP request (a Node `IncomingMessage` fits). */
export interface HttpRequestLike {
  readonly method?: string;
  readonly url?: string;
  /** Express's copy of the URL before mount points stripped it: preferred when present. */
  readonly originalUrl?: string;
  readonly headers: RequestHeaders;
  readonly httpVersion?: string;
  readonly socket?: {
    readonly remoteAddress?: string;
    readonly remotePort?: number;
    readonly localAddress?: string;
  } | null;
}

/** What the plugin reads from an accepted TCP connection (a Node `net.Socket` fits). */
export interface StreamClientLike {
  readonly remoteAddress?: string;
  readonly remotePort?: number;
}
