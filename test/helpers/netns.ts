/**
 * Network namespaces for the interop tests: made for one test and deleted when it ends. Addresses
 * come from 198.18.0.0/15 (RFC 2544), and nothing leaves the namespaces a test made.
 */
import { execFile, spawnSync } from 'node:child_process';
import koffi from 'koffi';

export type Run = (cmd: string, args: string[], timeoutMs?: number) => Promise<{ code: number; stdout: Buffer; stderr: string }>;

/** `ip` with these arguments; throws with its message when it fails. */
export function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

/** Namespaces this process made and has not yet removed. */
const live = new Set<string>();
let exitHooked = false;

/**
 * Remove what is left when the process ends without its teardowns: tap ends a file that overruns its
 * time limit with SIGTERM, and the namespaces (with the TAPs and veths moved into them) would stay.
 */
function removeLeftoversAtExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const name of live) spawnSync('ip', ['netns', 'del', name]);
  });
  process.once('SIGTERM', () => process.exit(143));
  process.once('SIGINT', () => process.exit(130));
}

/**
 * A namespace `name` with its loopback up, deleted when the test ends. `run` executes a command in it
 * without blocking this thread (our stack must keep running).
 */
export function namespace(t: { teardown(fn: () => unknown): void }, name: string): { ns: string; run: Run } {
  removeLeftoversAtExit();
  ip('netns', 'add', name);
  live.add(name);
  t.teardown(() => {
    spawnSync('ip', ['netns', 'del', name]);
    live.delete(name);
  });
  ip('-n', name, 'link', 'set', 'lo', 'up');
  const run: Run = (cmd, args, timeoutMs = 60_000) => new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', name, cmd, ...args], { encoding: 'buffer', timeout: timeoutMs, maxBuffer: 1 << 28 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr: stderr.toString() });
    });
  });
  return { ns: name, run };
}

/**
 * Hand `ifname` (an interface our stack made here: a TAP) to namespace `ns` as the kernel's end of the
 * link, with `kernelAddr`/24 on it, up.
 */
export function moveToNamespace(ifname: string, ns: string, kernelAddr: string): void {
  ip('link', 'set', ifname, 'netns', ns);
  ip('-n', ns, 'addr', 'add', `${kernelAddr}/24`, 'dev', ifname);
  ip('-n', ns, 'link', 'set', ifname, 'up');
}

const CLONE_NEWNET = 0x40000000;
const O_RDONLY = 0;
let libc: { open(path: string, flags: number): number; close(fd: number): number; setns(fd: number, type: number): number } | null = null;

/**
 * Run `fn` with this thread in namespace `ns` (setns(2) moves the calling thread only), then move
 * back. Sockets made meanwhile stay in `ns`: that is how a DPDK af_packet port in this process
 * opens an interface of a namespace the test made.
 */
export function inNamespace<T>(ns: string, fn: () => T): T {
  if (!libc) {
    const lib = koffi.load('libc.so.6');
    libc = {
      open: lib.func('int open(const char *path, int flags)') as (p: string, f: number) => number,
      close: lib.func('int close(int fd)') as (fd: number) => number,
      setns: lib.func('int setns(int fd, int nstype)') as (fd: number, type: number) => number,
    };
  }
  const home = libc.open('/proc/thread-self/ns/net', O_RDONLY);
  const there = libc.open(`/run/netns/${ns}`, O_RDONLY);
  if (home < 0 || there < 0) throw new Error(`cannot open the namespaces (${home}, ${there}): errno ${koffi.errno()}`);
  let back = true;
  try {
    if (libc.setns(there, CLONE_NEWNET) !== 0) throw new Error(`setns into ${ns}: errno ${koffi.errno()}`);
    return fn();
  } finally {
    back = libc.setns(home, CLONE_NEWNET) === 0;
    libc.close(home);
    libc.close(there);
    // This thread must never stay in a test's namespace; nothing sensible can go on from there.
    if (!back) process.abort();
  }
}
