/**
 * A private certificate authority for the backend suite's TLS listeners, made with openssl
 * at test time into a temp folder: a CA, and a broker certificate it signed for 127.0.0.1
 * and localhost (PEM for RabbitMQ, PKCS#12 for Kafka). A second, unrelated CA lets a test
 * show that trusting the wrong CA fails.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { dataDir } from './processes';

const run = promisify(execFile);

export interface TestCerts {
  readonly dir: string;
  /** The CA that signed the broker certificate (PEM): what a client trusts. */
  readonly caFile: string;
  /** A CA that signed nothing the brokers serve (PEM). */
  readonly otherCaFile: string;
  /** The broker certificate (PEM), subjectAltName IP:127.0.0.1 and DNS:localhost. */
  readonly certFile: string;
  /** Its private key (PEM, unencrypted). */
  readonly keyFile: string;
  /** Key, certificate and CA in one PKCS#12 file, for Java (Kafka). */
  readonly pkcs12File: string;
  readonly pkcs12Password: string;
  remove(): void;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function makeCa(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  await run('openssl', [
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    `/CN=gateway-zipkin test ${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { cert, key };
}

export async function makeCerts(): Promise<TestCerts> {
  const dir = dataDir('certs');
  const ca = await makeCa(dir, 'ca');
  const other = await makeCa(dir, 'other-ca');
  const keyFile = path.join(dir, 'broker.key');
  const csr = path.join(dir, 'broker.csr');
  const certFile = path.join(dir, 'broker.pem');
  const ext = path.join(dir, 'broker.ext');
  fs.writeFileSync(
    ext,
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  await run('openssl', ['req', ...EC_KEY, '-keyout', keyFile, '-out', csr, '-subj', '/CN=localhost']);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    ext,
    '-out',
    certFile,
  ]);
  const pkcs12File = path.join(dir, 'broker.p12');
  const pkcs12Password = 'gz-keystore';
  await run('openssl', [
    'pkcs12',
    '-export',
    '-in',
    certFile,
    '-inkey',
    keyFile,
    '-certfile',
    ca.cert,
    '-name',
    'broker',
    '-passout',
    `pass:${pkcs12Password}`,
    '-out',
    pkcs12File,
  ]);
  return {
    dir,
    caFile: ca.cert,
    otherCaFile: other.cert,
    certFile,
    keyFile,
    pkcs12File,
    pkcs12Password,
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
