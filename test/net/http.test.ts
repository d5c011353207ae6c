/**
 * node:http, unchanged, over mtcp-ts/net: an http.Server fed the connections
 * of an mtcp-ts Server, and clients through MtcpAgent (keep-alive pooling) or
 * a raw mtcp-ts Socket (pipelining). Two stacks on the shm wire in one thread.
 */
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import { connect, createServer, MtcpAgent, type Server } from '../../src/net/index.ts';
import { shmPair, type StackPair } from '../helpers/stacks.ts';

const HOST = '198.18.0.1';
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const BIG = randomBytes(8 << 20);

/** The node:http app under test: GET /big, GET /chunked, POST /sha (digest of the body), anything else echoes the URL. */
function app(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.url === '/big') {
    res.setHeader('content-length', BIG.length);
    res.end(BIG);
  } else if (req.url === '/chunked') {
    res.write('one,');
    setTimeout(() => {
      res.write('two,');
      res.end('three');
    }, 5);
  } else if (req.method === 'POST') {
    const h = createHash('sha256');
    let n = 0;
    req.on('data', (d: Buffer) => {
      h.update(d);
      n += d.length;
    });
    req.on('end', () => res.end(`${n} ${h.digest('hex')}`));
  } else {
    res.end(`you asked for ${req.url}`);
  }
}

async function withHttp(fn: (p: StackPair, port: number, server: Server, connections: () => number) => Promise<void>): Promise<void> {
  const p = shmPair({ rcvbuf: 262144, sndbuf: 262144 });
  const httpServer = http.createServer(app);
  let connections = 0;
  const server = createServer({ mctx: p.server }, (socket) => {
    connections++;
    httpServer.emit('connection', socket);
  });
  server.listen(8080, HOST);
  await once(server, 'listening');
  try {
    await fn(p, 8080, server, () => connections);
  } finally {
    httpServer.closeAllConnections();
    server.close();
    await p.close();
  }
}

function request(options: http.RequestOptions, body?: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

t.test('GET through MtcpAgent: status, headers and body', (t) => withHttp(async (p, port) => {
  const agent = new MtcpAgent({ mctx: p.client });
  const r = await request({ host: HOST, port, path: '/hello', agent });
  t.equal(r.status, 200);
  t.equal(r.body.toString(), 'you asked for /hello');
  t.equal(r.headers['content-length'], String('you asked for /hello'.length));
  agent.destroy();
}));

t.test('keep-alive: ten requests share one connection', (t) => withHttp(async (p, port, _s, connections) => {
  const agent = new MtcpAgent({ mctx: p.client, keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < 10; i++) {
    const r = await request({ host: HOST, port, path: `/${i}`, agent });
    t.equal(r.body.toString(), `you asked for /${i}`);
  }
  t.equal(connections(), 1, 'one TCP connection served them all');
  agent.destroy();
}));

t.test('a chunked response arrives whole', (t) => withHttp(async (p, port) => {
  const agent = new MtcpAgent({ mctx: p.client });
  const r = await request({ host: HOST, port, path: '/chunked', agent });
  t.equal(r.headers['transfer-encoding'], 'chunked');
  t.equal(r.body.toString(), 'one,two,three');
  agent.destroy();
}));

t.test('8 MiB download and 8 MiB chunked upload, sha256 checked', (t) => withHttp(async (p, port) => {
  const agent = new MtcpAgent({ mctx: p.client, keepAlive: true });
  const down = await request({ host: HOST, port, path: '/big', agent });
  t.equal(down.body.length, BIG.length);
  t.equal(sha(down.body), sha(BIG), 'download intact');
  const up = await request({ host: HOST, port, path: '/sha', method: 'POST', agent, headers: { 'transfer-encoding': 'chunked' } }, BIG);
  t.equal(up.body.toString(), `${BIG.length} ${sha(BIG)}`, 'upload intact');
  agent.destroy();
}));

t.test('pipelining: three requests written at once get three responses in order', (t) => withHttp(async (p, port) => {
  const s = connect({ mctx: p.client, port, host: HOST });
  await once(s, 'connect');
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  const ended = once(s, 'end');
  s.write(['/a', '/b', '/c'].map((u, i) => `GET ${u} HTTP/1.1\r\nHost: x\r\n${i === 2 ? 'Connection: close\r\n' : ''}\r\n`).join(''));
  await ended;
  const text = Buffer.concat(chunks).toString();
  const bodies = [...text.matchAll(/you asked for (\/\w)/g)].map((m) => m[1]);
  t.same(bodies, ['/a', '/b', '/c']);
  t.equal(text.match(/HTTP\/1\.1 200 OK/g)!.length, 3);
}));

t.test('the README\'s few lines: an existing node:http app served on the thread\'s mtcp_init context', async (t) => {
  const { mtcp_init, mtcp_create_context, mtcp_destroy, mtcp_runtime } = await import('../../src/index.ts');
  const { MtcpRuntime } = await import('../../src/mtcp/runtime.ts');
  const { config } = await import('../helpers/stacks.ts');
  t.equal(mtcp_init(config('198.18.0.1', '02:00:c6:12:00:01', { io: 'shm' })), 0);
  t.ok(mtcp_create_context(0));
  // --- as in the README ---
  const app = http.createServer((req, res) => res.end(`hello from mtcp-ts, ${req.url}\n`));
  const server = createServer((socket) => app.emit('connection', socket)).listen(8080);
  // ---
  await once(server, 'listening');
  const client = new MtcpRuntime(config('198.18.0.2', '02:00:c6:12:00:02', { io: 'shm' }), { shm: mtcp_runtime()!.shmPeer() }).createContext(0);
  const agent = new MtcpAgent({ mctx: client });
  const r = await request({ host: HOST, port: 8080, path: '/readme', agent });
  t.equal(r.body.toString(), 'hello from mtcp-ts, /readme\n');
  agent.destroy();
  app.closeAllConnections();
  server.close();
  client.stop();
  await client.closed;
  mtcp_destroy();
});
