/**
 * A certificate authority and a server certificate signed by it, made at test time with the openssl
 * command (nothing secret is kept in the repository). The server certificate names the addresses the
 * tests serve on (as IP subjectAltNames: the stack has no resolver). Also a self-signed certificate
 * that no test trusts, for the failure cases.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './tmp.ts';

export interface TestCerts {
  /** Files, for curl --cacert and nginx. */
  caFile: string;
  certFile: string;
  keyFile: string;
  /** The same, as PEM text for node:tls. */
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  /** A self-signed certificate and its key, for the same addresses, signed by no one the tests trust. */
  untrustedCert: Buffer;
  untrustedKey: Buffer;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makeCerts(t: { teardown(fn: () => unknown): void }, addresses: string[]): TestCerts {
  const dir = tempDir(t, 'mtcpts-certs-');
  const f = (name: string): string => join(dir, name);
  const san = `subjectAltName=${addresses.map((a) => `IP:${a}`).join(',')}`;
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=mtcp-ts test CA', '-keyout', f('ca.key'), '-out', f('ca.pem')]);
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-subj', '/CN=mtcp-ts test server', '-keyout', f('server.key'), '-out', f('server.csr')]);
  writeFileSync(f('server.ext'), `${san}\nextendedKeyUsage=serverAuth\n`);
  openssl(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2',
    '-extfile', f('server.ext'), '-out', f('server.pem')]);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=mtcp-ts untrusted', '-addext', san, '-keyout', f('untrusted.key'), '-out', f('untrusted.pem')]);
  return {
    caFile: f('ca.pem'), certFile: f('server.pem'), keyFile: f('server.key'),
    ca: readFileSync(f('ca.pem')), cert: readFileSync(f('server.pem')), key: readFileSync(f('server.key')),
    untrustedCert: readFileSync(f('untrusted.pem')), untrustedKey: readFileSync(f('untrusted.key')),
  };
}
