// The same node:http server on a TAP interface, reached by the Linux kernel's curl: our stack is 198.18.7.2,
// the kernel 198.18.7.1 in a network namespace this program makes (and deletes). Needs root and curl.
// Run from the repository after `npm ci`:  node examples/http-tap.mjs [netns] [tap]   (default mtcpdemo mtcptap0)
import http from 'node:http';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mtcp_init, mtcp_create_context, mtcp_destroy, parseMtcpConf } from 'mtcp-ts';
import { createServer } from 'mtcp-ts/net';

const [netns = 'mtcpdemo', tap = 'mtcptap0'] = process.argv.slice(2);
const ip = (...args) => execFileSync('ip', args, { stdio: 'inherit' });

// The config as text (a file works the same): one key per line.
const conf = parseMtcpConf(`io = tap\nport = ${tap}\n${tap}.addr = 198.18.7.2/24\n`, 'tap config');
if (mtcp_init(conf) < 0 || !mtcp_create_context(0)) process.exit(1); // the TAP exists once the context does
try {
  // The kernel's end: the TAP moves into the namespace (our stack keeps its file descriptor) and gets 198.18.7.1.
  ip('netns', 'add', netns);
  ip('link', 'set', tap, 'netns', netns);
  ip('-n', netns, 'addr', 'add', '198.18.7.1/24', 'dev', tap);
  ip('-n', netns, 'link', 'set', tap, 'up');

  const app = http.createServer((req, res) => res.end(`hello from mtcp-ts, ${req.url}\n`));
  const server = createServer((socket) => app.emit('connection', socket)).listen(80);
  const { stdout } = await promisify(execFile)('ip', ['netns', 'exec', netns, 'curl', '-sS', '--max-time', '10', 'http://198.18.7.2/tap']);
  process.stdout.write(`curl: ${stdout}`);
  server.close();
} finally {
  mtcp_destroy();
  execFileSync('ip', ['netns', 'del', netns], { stdio: 'ignore' }); // the TAP goes with it
}
