/**
 * Host, IP and `host:port` parsing shared by the declarative loader, the router and the
 * balancer. Checks follow Kong's typedefs (`host`, `wildcard_host`, `ip_or_cidr`) closely
 * enough for decK files; the texts are Kong's where Kong has one.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';

// One label: letters, digits, `_` and `-`, not starting with `-`; at most 63 characters.
const HOSTNAME_RE = /^(?=.{1,253}\.?$)[A-Za-z0-9_][A-Za-z0-9_-]{0,62}(?:\.[A-Za-z0-9_][A-Za-z0-9_-]{0,62})*\.?$/;
const PORT_RE = /^[0-9]{1,5}$/;
const V4_MAPPED_PREFIX = '::ffff:';

export function isHostname(name: string): boolean {
  return HOSTNAME_RE.test(name);
}

/** A hostname or an IP address (IPv6 with or without brackets). */
export function isHostOrIp(host: string): boolean {
  return isIP(unbracket(host)) !== 0 || isHostname(host);
}

/** `[::1]` → `::1`; anything else unchanged. */
export function unbracket(host: string): string {
  return host.length > 1 && host.charCodeAt(0) === 91 && host.charCodeAt(host.length - 1) === 93
    ? host.slice(1, -1)
    : host;
}

/** `host:port` text for logs and Host headers: IPv6 literals get their brackets back. */
export function formatHostPort(host: string, port: number): string {
  return (isIPv6(host) ? `[${host}]` : host) + ':' + port;
}

/** A host name with its brackets back when it is an IPv6 literal. */
export function formatHost(host: string): string {
  return isIPv6(host) ? `[${host}]` : host;
}

export interface HostPort {
  /** Without brackets. */
  readonly host: string;
  /** null when the text had no port. */
  readonly port: number | null;
}

/**
 * Splits `host`, `host:port`, `[v6]` or `[v6]:port`. A bare IPv6 address (several
 * colons, no brackets) is a host without a port. Returns an error text when malformed.
 */
export function splitHostPort(text: string): HostPort | string {
  let host: string;
  let portText: string | null = null;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) return `invalid value: ${text}`;
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return `invalid value: ${text}`;
      portText = rest.slice(1);
    }
    if (!isIPv6(host)) return `invalid value: ${text}`;
  } else {
    const first = text.indexOf(':');
    if (first !== -1 && first === text.lastIndexOf(':')) {
      host = text.slice(0, first);
      portText = text.slice(first + 1);
    } else {
      host = text;
    }
  }
  if (portText === null) return { host, port: null };
  if (!PORT_RE.test(portText) || Number(portText) > 65535) return 'invalid port number';
  return { host, port: Number(portText) };
}

/** An address as the router compares it: IPv4-mapped IPv6 (`::ffff:1.2.3.4`) becomes IPv4. */
export function canonicalIp(address: string): string {
  if (address.length > V4_MAPPED_PREFIX.length && address.startsWith(V4_MAPPED_PREFIX)) {
    const v4 = address.slice(V4_MAPPED_PREFIX.length);
    if (isIPv4(v4)) return v4;
  }
  return address;
}

export interface IpOrCidr {
  readonly address: string;
  readonly family: 4 | 6;
  /** null for a single address. */
  readonly prefix: number | null;
}

/** Kong's `ip_or_cidr`: an address or `address/prefix`; null when invalid. */
export function parseIpOrCidr(text: string): IpOrCidr | null {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return null;
  if (slash === -1) return { address: canonicalIp(address), family: family as 4 | 6, prefix: null };
  const prefixText = text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  if (prefix > (family === 4 ? 32 : 128)) return null;
  return { address, family: family as 4 | 6, prefix };
}
