/**
 * epserver in this thread, node:http as its client on a second stack of the
 * shm wire: keep-alive, Content-Length, 404, no way out of www_dir, HEAD,
 * pipelining, and a clean stop on SIGINT.
 */
import t from 'tap';
import { once } from 'node:events';
import http from 'node:http';
import { mkdirSync, writeFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { epserver } from '../../apps/epserver.ts';
import { mtcp_runtime } from '../../src/mtcp/api.ts';
import { MtcpRuntime } from '../../src/mtcp/runtime.ts';
import { connect, MtcpAgent } from '../../src/net/index.ts';
import { confText, config } from '../helpers/stacks.ts';
import { tempDir } from '../helpers/tmp.ts';

const dir = tempDir(t, 'epserver-');
const www = join(dir, 'www');
mkdirSync(join(www, 'sub'), { recursive: true });
writeFileSync(join(www, 'index.html'), '<h1>home</h1>\n');
writeFileSync(join(www, 'sub', 'a.txt'), 'a'.repeat(100_000));
writeFileSync(join(dir, 'secret.txt'), 'not for the web\n');
symlinkSync(join(dir, 'secret.txt'), join(www, 'link.txt'));
const conf = join(dir, 'server.conf');
writeFileSync(conf, confText('198.18.0.1', '02:00:c6:12:00:01', { io: 'shm' }));

function get(agent: http.Agent, path: string, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http.request({ host: '198.18.0.1', port: 80, path, method, agent }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    }).on('error', reject).end();
  });
}

t.test('epserver serves www_dir over HTTP/1.1 and stops on SIGINT', async (t) => {
  const running = epserver(['-p', www, '-f', conf]);
  while (!mtcp_runtime()) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 50)); // its listen
  const client = new MtcpRuntime(config('198.18.0.2', '02:00:c6:12:00:02', { io: 'shm' }), { shm: mtcp_runtime()!.shmPeer() }).createContext(0);
  const agent = new MtcpAgent({ mctx: client, keepAlive: true, maxSockets: 1 });
  let sockets = 0;
  const origCreate = agent.createConnection.bind(agent);
  agent.createConnection = (o: Parameters<typeof origCreate>[0]) => {
    sockets++;
    return origCreate(o);
  };

  const home = await get(agent, '/');
  t.equal(home.status, 200);
  t.equal(home.body, '<h1>home</h1>\n', 'a directory serves its index.html');
  t.equal(home.headers['content-length'], '14');
  const a = await get(agent, '/sub/a.txt');
  t.equal(a.body.length, 100_000);
  t.equal(a.headers['content-length'], '100000');
  t.equal((await get(agent, '/sub/a.txt', 'HEAD')).body, '', 'HEAD: headers only');
  t.equal((await get(agent, '/missing.html')).status, 404);
  t.equal((await get(agent, '/%2e%2e/secret.txt')).status, 403, 'an encoded ../ does not leave www_dir');
  t.equal((await get(agent, '/link.txt')).status, 403, 'nor does a symbolic link');
  t.equal(sockets, 1, 'keep-alive: all of it on one connection');
  agent.destroy();

  const s = connect({ mctx: client, port: 80, host: '198.18.0.1' });
  await once(s, 'connect');
  let raw = '';
  s.setEncoding('latin1');
  s.on('data', (d: string) => (raw += d));
  const ended = once(s, 'end');
  s.write('GET /../secret.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  await ended;
  t.match(raw, /^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*HTTP\/1\.1 200 OK\r\n[\s\S]*<h1>home<\/h1>\n$/, 'pipelined: a raw ../ is refused, the next request served, then closed');

  process.emit('SIGINT');
  t.equal(await running, 0, 'SIGINT: exit status 0');
  t.equal(mtcp_runtime(), null, 'the stack was torn down');
  client.stop();
  await client.closed;
});
