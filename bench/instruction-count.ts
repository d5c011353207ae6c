/**
 * A fixed amount of work for counting instructions (`valgrind --tool=callgrind`), the one measure of
 * the stack's cost that a loaded machine does not disturb: two stacks (server and client runtimes)
 * in one thread over the simulated wire in virtual time, the bench's echo server and its client
 * opening `count` short connections (64 B request, 64 B reply, 64 at a time), or, with `pingpong`,
 * 64 connections exchanging `count` round trips. Run it at two counts and divide the difference in
 * instructions by the difference in counts: what start-up and JIT warm-up cost cancels, and what is
 * left is the steady-state cost per connection (or round trip) of both stacks, the sim wire and the
 * bench's application. With a third argument `bench`, both stacks take the bench's own tuning (16 KiB
 * buffers, 16,384 connections, as bench/lib/shm-pair.ts) instead of the small one (8 KiB, 4,096).
 * docs/performance.md says how, and what it measured.
 *
 *   npm run build && valgrind --tool=callgrind --callgrind-out-file=/dev/null \
 *     node --single-threaded dist/bench/instruction-count.js short 6000
 */
import { parseMtcpConf } from '../src/config/mtcp-conf.ts';
import { SimWire } from '../src/io/sim.ts';
import { mtcp_destroy_context } from '../src/mtcp/api.ts';
import { MtcpRuntime } from '../src/mtcp/runtime.ts';
import { mtcpClient, mtcpServer } from './lib/mtcp-workload.ts';

const kind = process.argv[2];
const count = Number(process.argv[3]);
const tuning = process.argv[4] ?? 'small';
if ((kind !== 'short' && kind !== 'pingpong') || !Number.isInteger(count) || count < 1 || (tuning !== 'small' && tuning !== 'bench')) {
  process.stderr.write('usage: instruction-count short|pingpong N [bench]\n');
  process.exit(2);
}

function conf(ip: string, mac: string): string {
  const connections = tuning === 'bench' ? 16384 : 4096;
  const buffers = tuning === 'bench' ? 16384 : 8192;
  return [
    'io = sim', 'port = sim0', `sim0.addr = ${ip}/24`, `sim0.mac = ${mac}`, `max_concurrency = ${connections}`,
    `max_num_buffers = ${connections}`, `rcvbuf = ${buffers}`, `sndbuf = ${buffers}`, 'tcp_timewait = 0', 'cc = reno',
  ].join('\n');
}

const wire = new SimWire({ seed: 1, autoAdvance: true });
const server = new MtcpRuntime(parseMtcpConf(conf('198.18.0.1', '02:00:c6:12:00:01'), '<server>'), { sim: wire, secret: [1, 2] }).createContext(0);
const client = new MtcpRuntime(parseMtcpConf(conf('198.18.0.2', '02:00:c6:12:00:02'), '<client>'), { sim: wire, secret: [3, 4] }).createContext(0);
let stop = false;
const served = mtcpServer(server, 80, 'echo', () => stop);
// Virtual time stands still while the stacks are busy, so a ping-pong run is bounded by its round trips.
const spec = kind === 'short'
  ? { kind, concurrency: 64, messageSize: 64, durationMs: Infinity, requestsPerConnection: 1, totalConnections: count } as const
  : { kind, concurrency: 64, messageSize: 64, durationMs: Infinity, requestsPerConnection: 0, totalRequests: count } as const;
const r = await mtcpClient(client, 0xc6120001, 80, spec);
stop = true;
await served;
mtcp_destroy_context(client);
mtcp_destroy_context(server);
await Promise.all([client.closed, server.closed]);
process.stdout.write(`${JSON.stringify({ kind, connections: r.connections, requests: r.requests, errors: r.errors })}\n`);
if (r.errors > 0 || (kind === 'short' ? r.connections : r.requests) < count) process.exit(1);
