// Throwaway PKI for the loopback API server: a CA, a server certificate for 127.0.0.1 /
// localhost, and client certificates. Made with the openssl CLI (Node cannot sign X.509),
// once per test process, in a temp dir that is removed when the process exits.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lazyTempDir } from './tmp.js';

export interface CertKeyPair {
  certPem: string;
  keyPem: string;
}

export interface TestPki {
  caPem: string;
  /** Presented by the API server; SANs IP:127.0.0.1 and DNS:localhost. */
  server: CertKeyPair;
  /** Signed by the CA: CN=tunnelmesh-test, O=system:masters (what kubeadm's admin.conf carries). */
  client: CertKeyPair;
}

/** The user name the API server derives from the client certificate (its CN). */
export const CLIENT_CERT_USER = 'tunnelmesh-test';

const OPENSSL = '/usr/bin/openssl';
const VALID_DAYS = '2';

let pki: TestPki | undefined;
let stranger: CertKeyPair | undefined;

/** The shared CA, server and client material (generated on first use, then reused). */
export function testPki(): TestPki {
  pki ??= generatePki(pkiDir());
  return pki;
}

/**
 * A client certificate with the same subject as `testPki().client` but signed by a
 * different CA, so tests can prove the server only trusts its own CA.
 */
export function untrustedClientCert(): CertKeyPair {
  stranger ??= generateStranger(pkiDir());
  return stranger;
}

/** Private keys must not outlive the test process. */
const pkiDir = lazyTempDir('pki');

function generatePki(dir: string): TestPki {
  const ca = createCa(dir, 'ca', 'tunnelmesh-test-ca');
  const server = issue(dir, ca, 'server', '/CN=localhost', [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  const client = issue(dir, ca, 'client', `/O=system:masters/CN=${CLIENT_CERT_USER}`, CLIENT_EXTENSIONS);
  return { caPem: ca.certPem, server, client };
}

function generateStranger(dir: string): CertKeyPair {
  const otherCa = createCa(dir, 'stranger-ca', 'some-other-ca');
  return issue(dir, otherCa, 'stranger-client', `/O=system:masters/CN=${CLIENT_CERT_USER}`, CLIENT_EXTENSIONS);
}

const CLIENT_EXTENSIONS = [
  'basicConstraints=critical,CA:FALSE',
  'keyUsage=critical,digitalSignature,keyEncipherment',
  'extendedKeyUsage=clientAuth',
];

interface CaFiles extends CertKeyPair {
  certFile: string;
  keyFile: string;
}

function createCa(dir: string, name: string, commonName: string): CaFiles {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  openssl([
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', VALID_DAYS, '-subj', `/CN=${commonName}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { certFile, keyFile, certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
}

function issue(dir: string, ca: CaFiles, name: string, subject: string, extensions: string[]): CertKeyPair {
  const keyFile = join(dir, `${name}.key`);
  const csrFile = join(dir, `${name}.csr`);
  const certFile = join(dir, `${name}.crt`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, extensions.join('\n') + '\n');
  openssl([
    'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', csrFile, '-subj', subject,
  ]);
  openssl([
    'x509', '-req', '-in', csrFile, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', randomSerial(),
    '-days', VALID_DAYS, '-extfile', extFile, '-out', certFile,
  ]);
  return { certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
}

function randomSerial(): string {
  return `0x${randomBytes(8).toString('hex')}`;
}

function openssl(args: string[]): void {
  try {
    execFileSync(OPENSSL, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`openssl ${args[0]} failed${stderr ? `: ${stderr}` : ''}`, { cause: err });
  }
}
