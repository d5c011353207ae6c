/**
 * node:tls and node:https, unchanged, over mtcp-ts/net: an https.Server (and a tls.Server) fed the
 * connections of an mtcp-ts Server, and clients through MtcpHttpsAgent or tls.connect({ socket }).
 * Two stacks on the shm wire in one thread; certificates made by openssl at test time. Held to what
 * the same code does over node:net: bodies intact, ALPN chosen, sessions resumed, and a certificate
 * nobody trusts refused with the very error node:net's TLS gives.
 */
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { connect, createServer, MtcpHttpsAgent } from '../../src/net/index.ts';
import { makeCerts, type TestCerts } from '../helpers/certs.ts';
import { commandMissing, testNeeding } from '../helpers/prerequisites.ts';
import { shmPair, type StackPair } from '../helpers/stacks.ts';

const HOST = '198.18.0.1';
const BODY = randomBytes(1 << 20);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function get(options: https.RequestOptions): Promise<{ body: Buffer; reused: boolean; alpn: string | false | null }> {
  return new Promise((resolve, reject) => {
    https.get(options, (res) => {
      const chunks: Buffer[] = [];
      const socket = res.socket as tls.TLSSocket;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ body: Buffer.concat(chunks), reused: socket.isSessionReused(), alpn: socket.alpnProtocol }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** An https.Server with `cert` on the server stack's port 443, fed by an mtcp-ts Server. */
async function withHttps(certs: { cert: Buffer; key: Buffer }, fn: (p: StackPair) => Promise<void>): Promise<void> {
  const p = shmPair({ rcvbuf: 65536, sndbuf: 65536 });
  const app = https.createServer({ cert: certs.cert, key: certs.key }, (_req, res) => {
    res.setHeader('content-length', BODY.length);
    res.end(BODY);
  });
  const server = createServer({ mctx: p.server }, (socket) => app.emit('connection', socket)).listen(443, HOST);
  await once(server, 'listening');
  try {
    await fn(p);
  } finally {
    app.closeAllConnections();
    server.close();
    await p.close();
  }
}

const missing = commandMissing('openssl');

testNeeding(t, 'node:https over mtcp-ts', missing, async (t) => {
  const certs: TestCerts = makeCerts(t, [HOST, '127.0.0.1']);

  await t.test('MtcpHttpsAgent: 1 MiB intact, and the second connection resumes the first one\'s session', (t) => withHttps(certs, async (p) => {
    const agent = new MtcpHttpsAgent({ mctx: p.client, ca: certs.ca, keepAlive: false });
    const first = await get({ host: HOST, port: 443, path: '/', agent });
    t.equal(sha(first.body), sha(BODY), 'body sha256');
    t.equal(first.reused, false, 'a full handshake first');
    const second = await get({ host: HOST, port: 443, path: '/', agent });
    t.equal(sha(second.body), sha(BODY), 'body sha256 again');
    t.equal(second.reused, true, 'the session is resumed');
    agent.destroy();
  }));

  await t.test('ALPN: https.Server picks http/1.1 from h2 and http/1.1; a tls.Server offering h2 picks h2', (t) => withHttps(certs, async (p) => {
    const socket = tls.connect({ socket: connect({ mctx: p.client, host: HOST, port: 443 }), host: HOST, ca: certs.ca, ALPNProtocols: ['h2', 'http/1.1'] });
    await once(socket, 'secureConnect');
    t.equal(socket.alpnProtocol, 'http/1.1');
    t.equal(socket.authorized, true, 'the certificate checks out');
    socket.destroy();

    const h2 = tls.createServer({ cert: certs.cert, key: certs.key, ALPNProtocols: ['h2', 'http/1.1'] }, (s) => s.end('hi'));
    const server = createServer({ mctx: p.server }, (s) => h2.emit('connection', s)).listen(8443, HOST);
    await once(server, 'listening');
    const c = tls.connect({ socket: connect({ mctx: p.client, host: HOST, port: 8443 }), host: HOST, ca: certs.ca, ALPNProtocols: ['h2', 'http/1.1'] });
    await once(c, 'secureConnect');
    t.equal(c.alpnProtocol, 'h2');
    const [data] = (await once(c, 'data')) as [Buffer];
    t.equal(data.toString(), 'hi');
    c.destroy();
    server.close();
  }));

  await t.test('a certificate nobody trusts fails with the error node:https gives over node:net', async (t) => {
    const untrusted = { cert: certs.untrustedCert, key: certs.untrustedKey };
    const kernel = https.createServer(untrusted, (_req, res) => res.end());
    kernel.listen(0, '127.0.0.1');
    await once(kernel, 'listening');
    const expected = await get({ host: '127.0.0.1', port: (kernel.address() as AddressInfo).port, ca: certs.ca, agent: false })
      .then(() => null, (err: NodeJS.ErrnoException) => err);
    kernel.close();
    t.ok(expected, 'node:net\'s TLS refuses it');
    await withHttps(untrusted, async (p) => {
      const agent = new MtcpHttpsAgent({ mctx: p.client, ca: certs.ca });
      const err = await get({ host: HOST, port: 443, agent }).then(() => null, (e: NodeJS.ErrnoException) => e);
      t.ok(err, 'refused over mtcp-ts');
      t.equal(err?.code, expected?.code, `code ${expected?.code}`);
      t.equal(err?.message, expected?.message);
      agent.destroy();
    });
  });
});
