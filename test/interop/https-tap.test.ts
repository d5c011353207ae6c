/**
 * HTTPS on mtcp-ts over TAP, against the kernel's TCP and TLS tools in a namespace this test makes
 * (certificates made by openssl at test time): the kernel's curl --cacert fetches 1 KiB and 100 MiB
 * from node:https on our stack (sha256 checked); openssl s_client offers h2 and http/1.1 and sees
 * http/1.1 chosen; our node:https client (MtcpHttpsAgent) fetches from nginx with TLS in the namespace,
 * resumes its session on a second connection, and is refused by a certificate nobody trusts with
 * Node's usual error.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { parseMtcpConf } from '../../src/config/mtcp-conf.ts';
import { createServer, MtcpHttpsAgent } from '../../src/net/index.ts';
import { makeCerts } from '../helpers/certs.ts';
import { contextForTest } from '../helpers/interop-suite.ts';
import { moveToNamespace, namespace } from '../helpers/netns.ts';
import { commandMissing, testNeeding } from '../helpers/prerequisites.ts';
import { tempDir } from '../helpers/tmp.ts';

const KERNEL = '198.18.63.1';
const US = '198.18.63.2';
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

const missing = process.getuid?.() !== 0 ? 'not root' : !existsSync('/dev/net/tun') ? 'no /dev/net/tun'
  : spawnSync('ip', ['netns', 'list']).status !== 0 ? 'no `ip netns`'
    : commandMissing('curl') ?? commandMissing('openssl') ?? commandMissing('nginx');

testNeeding(t, 'HTTPS on mtcp-ts over TAP', missing, async (t) => {
  const certs = makeCerts(t, [US, KERNEL]);
  const { ns, run } = namespace(t, `nf-https-${process.pid}`);
  const ifname = `nfhttps${process.pid % 100000}`;
  const mctx = contextForTest(t, parseMtcpConf(['io = tap', `port = ${ifname}`, `${ifname}.addr = ${US}/24`, 'max_concurrency = 64',
    'max_num_buffers = 64', 'rcvbuf = 1048576', 'sndbuf = 262144', 'tcp_timeout = 60'].join('\n'), '<https tap>'));
  moveToNamespace(ifname, ns, KERNEL);

  await t.test('the kernel\'s curl and openssl s_client against node:https on our stack', async (t) => {
    const files: Record<string, Buffer> = { '/1k': randomBytes(1024), '/100m': randomBytes(100 << 20) };
    const app = https.createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
      const body = files[req.url ?? ''];
      res.statusCode = body ? 200 : 404;
      if (body) res.setHeader('content-length', body.length);
      res.end(body);
    });
    const server = createServer({ mctx }, (s) => app.emit('connection', s)).listen(443, US);
    await once(server, 'listening');
    for (const [path, body] of Object.entries(files)) {
      const t0 = performance.now();
      const r = await run('curl', ['-sS', '--max-time', '120', '--cacert', certs.caFile, `https://${US}${path}`], 150_000);
      t.equal(r.code, 0, `curl --cacert ${path}: ${r.stderr}`);
      t.equal(sha(r.stdout), sha(body), `curl ${path}: sha256 matches`);
      t.comment(`${path}: ${((body.length * 8) / ((performance.now() - t0) / 1000) / 1e6).toFixed(1)} Mbit/s`);
    }
    const s = await run('sh', ['-c', `openssl s_client -connect ${US}:443 -alpn h2,http/1.1 -CAfile ${certs.caFile} </dev/null 2>&1`]);
    const out = s.stdout.toString();
    t.match(out, /ALPN protocol: http\/1\.1/, 'openssl s_client: ALPN http/1.1 chosen from h2,http/1.1');
    t.match(out, /Verify return code: 0 \(ok\)/, 'openssl s_client: the certificate verifies');
    app.closeAllConnections();
    server.close();
  });

  await t.test('our node:https client fetches from nginx with TLS in the namespace', async (t) => {
    const dir = tempDir(t, 'mtcpts-nginx-tls-');
    const www = join(dir, 'www');
    mkdirSync(www);
    const files: Record<string, Buffer> = { '1k': randomBytes(1024), '1m': randomBytes(1 << 20) };
    for (const [name, body] of Object.entries(files)) writeFileSync(join(www, name), body);
    writeFileSync(join(dir, 'untrusted.pem'), certs.untrustedCert);
    writeFileSync(join(dir, 'untrusted.key'), certs.untrustedKey);
    writeFileSync(join(dir, 'nginx.conf'), `daemon off; master_process off; pid ${dir}/nginx.pid; error_log stderr;
events {} http { access_log off;
  server { listen ${KERNEL}:8443 ssl; ssl_certificate ${certs.certFile}; ssl_certificate_key ${certs.keyFile}; root ${www}; }
  server { listen ${KERNEL}:8444 ssl; ssl_certificate ${dir}/untrusted.pem; ssl_certificate_key ${dir}/untrusted.key; root ${www}; }
}
`);
    const nginx = spawn('ip', ['netns', 'exec', ns, 'nginx', '-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
    t.teardown(() => {
      nginx.kill('SIGTERM'); // `ip netns exec` execs nginx: this PID is nginx
    });
    const agent = new MtcpHttpsAgent({ mctx, ca: certs.ca, keepAlive: false });
    t.teardown(() => agent.destroy());
    const get = (port: number, path: string): Promise<{ body: Buffer; reused: boolean }> => new Promise((resolve, reject) => {
      https.get({ host: KERNEL, port, path, agent }, (res) => {
        const chunks: Buffer[] = [];
        const reused = (res.socket as TLSSocket).isSessionReused();
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (res.statusCode === 200 ? resolve({ body: Buffer.concat(chunks), reused }) : reject(new Error(`status ${res.statusCode}`))));
      }).on('error', reject);
    });
    let ready = false;
    for (let i = 0; i < 50 && !ready; i++) {
      ready = await get(8443, '/1k').then(() => true, async () => {
        await new Promise((r) => setTimeout(r, 200)); // nginx still starting
        return false;
      });
    }
    t.ok(ready, 'nginx answers over TLS');
    for (const [name, body] of Object.entries(files)) {
      const got = await get(8443, `/${name}`);
      t.equal(sha(got.body), sha(body), `${name}: sha256 matches`);
      t.equal(got.reused, true, `${name}: a new connection resumed the cached TLS session`);
    }
    const err = await get(8444, '/1k').then(() => null, (e: NodeJS.ErrnoException) => e);
    t.equal(err?.code, 'DEPTH_ZERO_SELF_SIGNED_CERT', 'a certificate nobody trusts: Node\'s error code');
    t.equal(err?.message, 'self-signed certificate', 'and its message');
  });
}, { timeout: 300_000 });
