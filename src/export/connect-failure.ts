/**
 * What went wrong when a sender could not reach its collector or broker, from the Node socket
 * or TLS error code (kafkajs and amqplib keep the socket's code on their own errors): the few
 * words the Kafka and RabbitMQ senders put before the client's message, and the OpenSSL
 * numbers of certificate failures that Kong's HTTP texts show (http-sender.ts).
 */

/**
 * OpenSSL's X509 verify result numbers for the codes Node names: ngx_lua reports a failed
 * handshake as `<number>: <OpenSSL text>` (`18: self-signed certificate`), Node's message
 * being that same text.
 */
export const X509_VERIFY_CODES: Readonly<Record<string, number>> = {
  UNABLE_TO_GET_ISSUER_CERT: 2,
  CERT_SIGNATURE_FAILURE: 7,
  CERT_NOT_YET_VALID: 9,
  CERT_HAS_EXPIRED: 10,
  DEPTH_ZERO_SELF_SIGNED_CERT: 18,
  SELF_SIGNED_CERT_IN_CHAIN: 19,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 20,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 21,
  CERT_CHAIN_TOO_LONG: 22,
  CERT_REVOKED: 23,
  INVALID_CA: 24,
  CERT_UNTRUSTED: 27,
  CERT_REJECTED: 28,
};

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT']);

/**
 * `broker unreachable`, `TLS certificate not trusted`, `TLS certificate host mismatch` or
 * `TLS handshake failed` for a connect failure with that code; null for any other code.
 */
export function connectFailure(code: unknown): string | null {
  if (typeof code !== 'string') return null;
  if (UNREACHABLE_CODES.has(code)) return 'broker unreachable';
  if (code in X509_VERIFY_CODES) return 'TLS certificate not trusted';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'TLS certificate host mismatch';
  if (code.startsWith('ERR_SSL_')) return 'TLS handshake failed';
  return null;
}
