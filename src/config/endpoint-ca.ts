/**
 * `?ca=<file>` of a broker endpoint (endpoint.ts): the PEM certificates its TLS connection
 * trusts, in place of Node's list of public CAs, for a broker whose certificate a private CA
 * signed. The file is read and each certificate parsed when the config is validated, so a
 * wrong path or a file without certificates is a configuration error naming the file,
 * not a failure of every send. (Node's TLS would take a file of anything and trust nothing.)
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { EndpointError } from './endpoint-error';

const CERT_RE = /-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----/g;

/** The PEM text of the certificates in `file`; throws `EndpointError` naming what is wrong. */
export function readCaFile(file: string): string {
  if (file === '') throw new EndpointError('ca must be the path of a PEM file');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new EndpointError(`ca file '${file}' cannot be read (${code})`);
  }
  const certs = text.match(CERT_RE) ?? [];
  if (certs.length === 0) throw new EndpointError(`ca file '${file}' holds no PEM certificate`);
  certs.forEach((pem, i) => {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new EndpointError(`ca file '${file}': certificate ${i + 1} is not valid (${(err as Error).message})`);
    }
  });
  return certs.join('\n') + '\n';
}
