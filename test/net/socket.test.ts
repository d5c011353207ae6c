/**
 * node:net behaviour of mtcp-ts/net, between two stacks in one thread over
 * the shm wire (real time): echo with sha256, events and their order, addresses and
 * counters, refused and reset connections, EADDRINUSE, half-open, end versus
 * destroy, backpressure both ways, timeouts.
 */
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from '../../src/net/index.ts';
import { shmPair, type StackPair } from '../helpers/stacks.ts';

const SERVER = '198.18.0.1';
const CLIENT = '198.18.0.2';

async function listening(server: Server, port = 0): Promise<number> {
  server.listen(port, SERVER);
  await once(server, 'listening');
  return server.address()!.port;
}

/** Resolves on 'close' (events.once would reject on the 'error' that may come first). */
const closed = (e: Socket | Server): Promise<void> => new Promise((r) => e.once('close', () => r()));

function collect(s: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  return once(s, 'end').then(() => Buffer.concat(chunks));
}

/** A server on the pair's server stack and one connection to it: the client's socket `c`, the server's `s`. */
async function oneConnection(p: StackPair): Promise<{ server: Server; c: Socket; s: Socket }> {
  const server = createServer({ mctx: p.server });
  const port = await listening(server);
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const c = connect({ mctx: p.client, port, host: SERVER });
  await once(c, 'connect');
  const [s] = await accepted;
  return { server, c, s };
}

async function withPair(fn: (p: StackPair) => Promise<void>): Promise<void> {
  const p = shmPair({ rcvbuf: 65536, sndbuf: 65536 });
  try {
    await fn(p);
  } finally {
    await p.close();
  }
}

t.test('echo 1 MiB: bytes intact, events in node:net order, addresses and counters', (t) => withPair(async (p) => {
  const server = createServer({ mctx: p.server }, (s) => s.pipe(s));
  const port = await listening(server);
  t.equal(server.address()!.port, port);
  const payload = randomBytes(1 << 20);
  const c = connect({ mctx: p.client, port, host: SERVER });
  const isClosed = closed(c);
  const events: string[] = [];
  for (const e of ['connect', 'ready', 'end', 'finish', 'close']) c.on(e, () => events.push(e));
  t.equal(c.connecting, true);
  t.equal(c.readyState, 'opening');
  await once(c, 'connect');
  t.equal(c.readyState, 'open');
  t.equal(c.remoteAddress, SERVER);
  t.equal(c.remotePort, port);
  t.equal(c.localAddress, CLIENT);
  t.ok(c.localPort! >= 32768, `ephemeral local port ${c.localPort}`);
  const body = collect(c);
  c.end(payload);
  const echoed = await body;
  await isClosed;
  t.equal(createHash('sha256').update(echoed).digest('hex'), createHash('sha256').update(payload).digest('hex'), 'sha256 matches');
  t.equal(c.bytesRead, payload.length);
  t.equal(c.bytesWritten, payload.length);
  t.same(events.filter((e) => e !== 'finish'), ['connect', 'ready', 'end', 'close']);
  t.ok(events.indexOf('finish') < events.indexOf('close'));
  server.close();
  await closed(server);
}));

t.test('connection refused: error ECONNREFUSED with address and port, then close', (t) => withPair(async (p) => {
  const c = connect({ mctx: p.client, port: 9, host: SERVER });
  const isClosed = closed(c);
  const [err] = await once(c, 'error') as [NodeJS.ErrnoException & { address: string; port: number }];
  t.equal(err.code, 'ECONNREFUSED');
  t.equal(err.syscall, 'connect');
  t.equal(err.errno, -111);
  t.equal(err.message, `connect ECONNREFUSED ${SERVER}:9`);
  await isClosed;
  t.equal(c.destroyed, true);
}));

t.test('a second listener on the same port gets EADDRINUSE', (t) => withPair(async (p) => {
  const a = createServer({ mctx: p.server });
  const port = await listening(a, 8080);
  const b = createServer({ mctx: p.server });
  b.listen(port, SERVER);
  const [err] = await once(b, 'error') as [NodeJS.ErrnoException];
  t.equal(err.code, 'EADDRINUSE');
  t.equal(b.listening, false);
  a.close();
}));

t.test('half-open: the server reads the client\'s end and still writes back (allowHalfOpen)', (t) => withPair(async (p) => {
  const server = createServer({ mctx: p.server, allowHalfOpen: true }, (s) => {
    const got = collect(s);
    void got.then((b) => s.end(`you sent ${b.length} bytes`));
  });
  const port = await listening(server);
  const c = connect({ mctx: p.client, port, host: SERVER, allowHalfOpen: true });
  const isClosed = closed(c);
  await once(c, 'connect');
  const reply = collect(c);
  c.end(Buffer.alloc(5000, 1));
  t.equal((await reply).toString(), 'you sent 5000 bytes');
  await isClosed;
  server.close();
}));

t.test('without allowHalfOpen a socket ends its side when the peer ends', (t) => withPair(async (p) => {
  let serverSide: Socket | null = null;
  const server = createServer({ mctx: p.server }, (s) => {
    serverSide = s;
    s.resume();
  });
  const port = await listening(server);
  const c = connect({ mctx: p.client, port, host: SERVER });
  const isClosed = closed(c);
  const ended = once(c, 'end'); // the server's side ends itself after reading the FIN
  c.resume();
  await once(c, 'connect');
  c.end();
  await ended;
  await isClosed;
  t.equal(serverSide!.writableEnded, true);
  server.close();
}));

t.test('resetAndDestroy: the peer sees ECONNRESET, then close', (t) => withPair(async (p) => {
  const { server, c, s } = await oneConnection(p);
  s.resume();
  const order: string[] = [];
  s.on('error', (e: NodeJS.ErrnoException) => order.push(`error ${e.code}`));
  const isClosed = closed(s);
  s.on('close', () => order.push('close'));
  c.resetAndDestroy();
  await isClosed;
  t.same(order, ['error ECONNRESET', 'close'], 'error then close, as node:net');
  server.close();
}));

t.test('destroy() closes gracefully: the peer reads to the end without an error', (t) => withPair(async (p) => {
  const { server, c, s } = await oneConnection(p);
  const got = collect(s);
  let errored = false;
  s.on('error', () => (errored = true));
  c.write('last words');
  c.destroy();
  t.equal((await got).toString(), 'last words');
  t.equal(errored, false);
  server.close();
}));

t.test('backpressure: write() returns false while the peer does not read, then drain', (t) => withPair(async (p) => {
  const { server, c, s } = await oneConnection(p);
  s.pause();
  const chunk = Buffer.alloc(64 * 1024, 7);
  let written = 0;
  while (c.write(chunk)) written += chunk.length;
  written += chunk.length;
  t.ok(written <= 8 * 64 * 1024, `write() said stop after ${written} bytes (peer window and buffers are 64 KiB)`);
  // The receiver holds at most its buffer and the stream's queue: nothing is read without demand.
  await new Promise((r) => setTimeout(r, 50));
  t.ok(s.bytesRead <= 2 * 65536 + 64 * 1024, `the paused reader took ${s.bytesRead} bytes`);
  const drained = once(c, 'drain');
  let got = 0;
  s.on('data', (d: Buffer) => (got += d.length));
  s.resume();
  await drained;
  c.end();
  await once(s, 'end');
  t.equal(got + 0, written, 'every byte arrived once the reader resumed');
  server.close();
}));

t.test('cork and uncork: the gathered writes go out together, in order, each callback called, bytesWritten exact', (t) => withPair(async (p) => {
  const { server, c, s } = await oneConnection(p);
  const received = collect(s);
  // Small chunks, then chunks larger than the 64 KiB send buffer: the gathered write waits for room part way.
  const parts = [Buffer.from('head '), Buffer.from('body '), randomBytes(100_000), Buffer.from(' tail'), randomBytes(70_000)];
  let callbacks = 0;
  c.cork();
  for (const part of parts) c.write(part, () => callbacks++);
  t.equal(c.bytesWritten, parts.reduce((n, b) => n + b.length, 0), 'bytesWritten counts queued bytes, as node:net');
  c.uncork();
  c.end();
  const got = await received;
  const sent = Buffer.concat(parts);
  t.equal(got.length, sent.length);
  t.ok(got.equals(sent), 'the peer read every byte in order');
  t.equal(callbacks, parts.length, 'every write callback was called');
  t.equal(c.bytesWritten, sent.length);
  server.close();
}));

t.test('setTimeout emits timeout after inactivity; activity postpones it', (t) => withPair(async (p) => {
  const server = createServer({ mctx: p.server }, (s) => s.resume());
  const port = await listening(server);
  const c = connect({ mctx: p.client, port, host: SERVER });
  await once(c, 'connect');
  const started = Date.now();
  c.setTimeout(150);
  t.equal(c.timeout, 150);
  await new Promise((r) => setTimeout(r, 80));
  c.write('x');
  await once(c, 'timeout');
  t.ok(Date.now() - started >= 200, 'the write restarted the clock');
  c.destroy();
  server.close();
}));

t.test('server close waits for its connections; getConnections and maxConnections', (t) => withPair(async (p) => {
  const server = createServer({ mctx: p.server }, (s) => s.resume());
  server.maxConnections = 1;
  const port = await listening(server);
  const a = connect({ mctx: p.client, port, host: SERVER });
  await once(server, 'connection');
  const dropped = once(server, 'drop');
  const b = connect({ mctx: p.client, port, host: SERVER });
  b.on('error', () => {});
  b.resume();
  await dropped;
  const [err, n] = await new Promise<[Error | null, number]>((r) => server.getConnections((e, k) => r([e, k])));
  t.equal(err, null);
  t.equal(n, 1);
  let closeCalled = false;
  server.close(() => (closeCalled = true));
  t.equal(server.listening, false);
  await new Promise((r) => setTimeout(r, 30));
  t.equal(closeCalled, false, 'not closed while a connection is open');
  a.end();
  a.resume();
  await closed(server);
  t.equal(closeCalled, true);
  const [notRunning] = await new Promise<[NodeJS.ErrnoException | undefined]>((r) => server.close((e) => r([e as NodeJS.ErrnoException])));
  t.equal(notRunning!.code, 'ERR_SERVER_NOT_RUNNING');
}));

t.test('bad input throws a clear error', (t) => withPair(async (p) => {
  t.throws(() => connect({ mctx: p.client, port: 70000, host: SERVER }), RangeError);
  t.throws(() => connect({ mctx: p.client, port: 80, host: 'example.com' }), /IPv4 address in dotted form/);
  t.throws(() => createServer({ mctx: p.server }).listen(-1), RangeError);
}));
