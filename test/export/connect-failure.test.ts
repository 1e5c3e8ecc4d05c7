/**
 * The words the Kafka and RabbitMQ senders put before a connect failure
 * (src/export/connect-failure.ts), from the codes Node gives socket and TLS errors.
 */
import { connectFailure } from '../../src/export/connect-failure';

test.each([
  ['ECONNREFUSED', 'broker unreachable'],
  ['ENOTFOUND', 'broker unreachable'],
  ['EHOSTUNREACH', 'broker unreachable'],
  ['ETIMEDOUT', 'broker unreachable'],
  ['SELF_SIGNED_CERT_IN_CHAIN', 'TLS certificate not trusted'],
  ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'TLS certificate not trusted'],
  ['CERT_HAS_EXPIRED', 'TLS certificate not trusted'],
  ['ERR_TLS_CERT_ALTNAME_INVALID', 'TLS certificate host mismatch'],
  ['ERR_SSL_WRONG_VERSION_NUMBER', 'TLS handshake failed'],
  ['ECONNRESET', null],
  ['EPIPE', null],
  [undefined, null],
  [42, null],
])('%s → %s', (code, words) => {
  expect(connectFailure(code)).toBe(words);
});
