/**
 * The kernel as the client over a real link: wrk in one network namespace, across a veth pair, against
 * a server in another: first our epserver on a DPDK port on the veth (net_af_packet, or net_af_xdp),
 * then nginx on the kernel's own TCP on that same veth (one worker process each, like epserver on one
 * core). Addresses come from 198.18.0.0/15; the namespaces are deleted at the end. Needs root, ip, wrk,
 * nginx, ethtool and DPDK.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dpdkUnavailable } from '../../src/io/dpdk.ts';
import type { CoreLoad } from '../../src/mtcp/thread-cpu.ts';
import { epserverLoad } from './http-pair.ts';

const KERNEL = '198.18.7.1';
const SERVER = '198.18.7.2';

export interface WrkFigures {
  requestsPerSecond: number;
  /** Socket errors plus non-2xx responses. */
  errors: number;
  p50Ms: number;
}

/** Our server's figures: wrk's, and epserver's core's frames and CPU time. */
export type OurWrkFigures = WrkFigures & { server: CoreLoad };

/** Why this bench cannot run here, or null. */
export function afPacketMissing(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  for (const tool of ['ip', 'wrk', 'nginx', 'ethtool']) if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `no ${tool}`;
  return dpdkUnavailable();
}

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim()}`);
}

/**
 * Start `args` in namespace `ns` and resolve once `ready` answers true (polled), or reject when it
 * exits; with what it printed on its standard error so far.
 */
async function startIn(ns: string, args: string[], ready: () => boolean): Promise<{ child: ChildProcess; stderr: () => string }> {
  const child = spawn('ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`${args[0]} exited: ${stderr}`);
    if (ready()) return { child, stderr: () => stderr };
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`${args.join(' ')} did not come up: ${stderr}`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function wrk(ns: string, connections: number, seconds: number): WrkFigures {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'wrk', '-t2', `-c${connections}`, `-d${seconds}s`, '--latency', `http://${SERVER}/index.html`],
    { encoding: 'utf8', timeout: (seconds + 60) * 1000 });
  const out = r.stdout ?? '';
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!rps) throw new Error(`wrk printed no rate: ${out}${r.stderr}`);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const p50 = /50%\s+([\d.]+)(us|ms|s)/.exec(out);
  const scale = { us: 0.001, ms: 1, s: 1000 } as const;
  return {
    requestsPerSecond: Number(rps[1]),
    errors: (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0),
    p50Ms: p50 ? Number(p50[1]) * scale[p50[2] as keyof typeof scale] : NaN,
  };
}

/** Is something answering HTTP at SERVER, seen from `ns`? */
function answers(ns: string): boolean {
  return spawnSync('ip', ['netns', 'exec', ns, 'curl', '-s', '-o', '/dev/null', '--max-time', '1', `http://${SERVER}/index.html`]).status === 0;
}

/** The DPDK virtual devices that open a kernel interface: a packet socket, or an XDP program and an AF_XDP socket. */
export type VethPmd = 'net_af_packet' | 'net_af_xdp';

/** wrk against epserver over DPDK `pmd` (af_packet by default), then against nginx on the same veth, side by side. */
export async function afPacketWrk(connections: number, seconds: number, pmd: VethPmd = 'net_af_packet'): Promise<{ ours: OurWrkFigures; nginx: WrkFigures }> {
  const tag = `mtcpts-bench-${pmd === 'net_af_xdp' ? 'xdp-to-' : ''}${process.pid}`;
  const kernelNs = `${tag}-k`;
  const ourNs = `${tag}-s`;
  const dir = mkdtempSync(join(tmpdir(), 'mtcpts-bench-afp-'));
  const children: ChildProcess[] = [];
  try {
    sh('ip', ['netns', 'add', kernelNs]);
    sh('ip', ['netns', 'add', ourNs]);
    sh('ip', ['-n', kernelNs, 'link', 'set', 'lo', 'up']);
    sh('ip', ['-n', ourNs, 'link', 'set', 'lo', 'up']);
    sh('ip', ['link', 'add', 'veth-us', 'netns', ourNs, 'type', 'veth', 'peer', 'name', 'veth-kernel', 'netns', kernelNs]);
    // af_packet and XDP see frames as the veth passes them: the kernel's side must checksum and segment them itself.
    sh('ip', ['netns', 'exec', kernelNs, 'ethtool', '-K', 'veth-kernel', 'tx', 'off', 'tso', 'off', 'gso', 'off']);
    sh('ip', ['-n', kernelNs, 'addr', 'add', `${KERNEL}/24`, 'dev', 'veth-kernel']);
    sh('ip', ['-n', kernelNs, 'link', 'set', 'veth-kernel', 'up']);
    sh('ip', ['-n', ourNs, 'link', 'set', 'veth-us', 'up']);
    const www = join(dir, 'www');
    mkdirSync(www);
    writeFileSync(join(www, 'index.html'), `${'x'.repeat(1023)}\n`);

    const conf = join(dir, 'afp.conf');
    writeFileSync(conf, ['io = dpdk', 'port = p0', `p0.addr = ${SERVER}/24`, `p0.device = ${pmd}0,iface=veth-us`,
      'max_concurrency = 4096', 'max_num_buffers = 4096', 'rcvbuf = 16384', 'sndbuf = 16384', 'tcp_timeout = 30'].join('\n'));
    const cli = fileURLToPath(new URL('../apps/cli.js', import.meta.url));
    const ep = await startIn(ourNs, [process.execPath, cli, 'epserver', '-p', www, '-f', conf], () => answers(kernelNs));
    children.push(ep.child);
    const ours = { ...wrk(kernelNs, connections, seconds), server: { frames: 0, cpuSeconds: 0, framesPerCpuSecond: 0 } };
    await stop(ep.child);
    ours.server = epserverLoad(ep.stderr());

    // The same veth, now with the kernel's TCP behind it.
    sh('ip', ['-n', ourNs, 'addr', 'add', `${SERVER}/24`, 'dev', 'veth-us']);
    writeFileSync(join(dir, 'nginx.conf'), `daemon off; master_process off; worker_processes 1; pid ${dir}/nginx.pid; error_log stderr;
events { worker_connections 4096; } http { access_log off; keepalive_requests 1000000; server { listen ${SERVER}:80; root ${www}; } }
`);
    const nginx = await startIn(ourNs, ['nginx', '-c', join(dir, 'nginx.conf'), '-p', dir], () => answers(kernelNs));
    children.push(nginx.child);
    const theirs = wrk(kernelNs, connections, seconds);
    await stop(nginx.child);
    return { ours, nginx: theirs };
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    spawnSync('ip', ['netns', 'del', kernelNs]);
    spawnSync('ip', ['netns', 'del', ourNs]);
    rmSync(dir, { recursive: true, force: true });
  }
}
