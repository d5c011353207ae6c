/**
 * mTCP's API under its C names. Calls take the context first and return a
 * number: -1 on failure with the reason in errno, read with mtcp_errno()
 * (per thread, like C's errno) or mctx.errno (per context).
 *
 * Every call is non-blocking: a JavaScript thread cannot block without
 * stopping the stack that would unblock it, so a call that would block
 * returns -1 with EAGAIN (EINPROGRESS for connect). Wait with mtcp_epoll_wait.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { INTEGER_KEYS, integerProblem, type IntegerKey, type MtcpConfName } from '../config/keys.ts';
import { loadMtcpConf, maskCpus, sideFilesLine, type MtcpConfig } from '../config/mtcp-conf.ts';
import type { ShmWireEnd } from '../io/shm.ts';
import { Epoll } from '../epoll/epoll.ts';
import type { MtcpEpollEvent } from '../epoll/events.ts';
import { MTCP_EPOLL_CTL_ADD, MTCP_EPOLL_CTL_DEL, MTCP_EPOLL_CTL_MOD } from '../epoll/events.ts';
import { ConfigError } from '../config/errors.ts';
import {
  EADDRINUSE, EADDRNOTAVAIL, EAFNOSUPPORT, EAGAIN, EALREADY, EBADF, EEXIST, EINPROGRESS, EINVAL, EIO, EISCONN, EMFILE, ENOENT,
  ENOPROTOOPT, ENOTCONN, ENOTSOCK, EOPNOTSUPP, EPERM, EPROTONOSUPPORT, EPROTOTYPE, ErrnoError, errnoName,
} from '../stack/errno.ts';
import { State } from '../stack/tcp/state.ts';
import type { TcpSockets } from '../stack/tcp/socket-ops.ts';
import { affinitize } from './affinity.ts';
import { MtcpContext } from './context.ts';
import { MtcpRuntime, type MtcpInitOptions, type MtcpShared } from './runtime.ts';
import { SocketKind } from './socket-table.ts';
import * as C from './constants.ts';

export type mctx_t = MtcpContext;

/** What an async call that failed resolves to (errno says why). */
const FAILED: Promise<number> = Promise.resolve(-1);

/** struct sockaddr_in, in host byte order (no htons/htonl). */
export interface SockAddrIn {
  sin_family: number;
  /** Port, host order. */
  sin_port: number;
  /** IPv4 address as a uint32, host order (198.18.0.1 is 0xc6120001). */
  sin_addr: number;
}

/** One buffer of a readv/writev vector. */
export interface IoVec {
  iov_base: Uint8Array;
  iov_len: number;
}

/**
 * struct mtcp_conf: the settings mtcp_getconf reads and mtcp_setconf changes before mtcp_init. Each is an
 * mtcp.conf key (num_cores, max_concurrency, max_num_buffers, rcvbuf, sndbuf, tcp_timewait, tcp_timeout)
 * with that key's default and limits (src/config/keys.ts).
 */
export type MtcpConf = Record<MtcpConfName, number>;

/** The mtcp.conf key behind each struct mtcp_conf member. */
const CONF_MEMBERS = new Map<string, IntegerKey & { conf: MtcpConfName }>(
  INTEGER_KEYS.flatMap((spec) => (spec.conf ? [[spec.conf, { ...spec, conf: spec.conf }] as const] : [])),
);

/** An out-parameter for getsockopt and ioctl. */
export interface IntRef {
  value: number;
}

// Per-thread state: the default runtime made by mtcp_init, and errno.
let runtime: MtcpRuntime | null = null;
let lastErrno = 0;
/** errno of this thread's last failed mtcp_init (0 after one succeeds): mtcp_create_context reports it when there is no runtime. */
let initErrno = 0;
let pendingConf: Partial<MtcpConf> | null = null;

/** errno of the last failed call in this thread. */
export function mtcp_errno(): number {
  return lastErrno;
}

/** Apply the socket's keepalive settings to its connection. */
function applyKeepAlive(mctx: MtcpContext, s: number): void {
  const st = mctx.sockets;
  const c = st.conn[s];
  if (c < 0) return;
  mctx.syncClock();
  mctx.stack.tcp.sockets.setKeepAlive(c, st.keepAlive[s] !== 0, st.keepIdleSec[s] * 1000, st.keepIntvlSec[s] * 1000, st.keepCnt[s]);
}

function fail(mctx: MtcpContext | null, errno: number): -1 {
  lastErrno = errno;
  if (mctx) mctx.errno = errno;
  return -1;
}

/**
 * The errno a failed setup reports: the cause's own (an ErrnoError from the runtime or a driver; a Node
 * system error, such as a capture file that cannot be created), EINVAL for a bad value, else `fallback`.
 */
function errnoOf(err: unknown, fallback: number): number {
  if (err instanceof ErrnoError || err instanceof ConfigError) return err.errno;
  if (err instanceof RangeError) return EINVAL;
  const system = (err as NodeJS.ErrnoException | null)?.errno;
  return typeof system === 'number' && system !== 0 ? Math.abs(system) : fallback; // libuv's errno values are negative
}

function checkCtx(mctx: MtcpContext): boolean {
  return mctx instanceof MtcpContext && mctx.running;
}

function applyConf(config: MtcpConfig, conf: Partial<MtcpConf>): void {
  for (const [member, spec] of CONF_MEMBERS) {
    const v = conf[member as MtcpConfName];
    if (v !== undefined) config[spec.field] = v;
  }
  // A core_mask too small for a new core count gives way to the lowest num_cores CPUs, num_cores' default mask.
  if (conf.num_cores !== undefined && maskCpus(config.coreMask).length < conf.num_cores) config.coreMask = 2 ** conf.num_cores - 1;
}

// ---- process-level calls ---------------------------------------------------

/**
 * Load the configuration and set up the wire. `conf` is a path to an
 * mtcp.conf or an already parsed config. Returns 0, or -1 with the reason
 * printed to stderr and errno set: EINVAL for a bad configuration, the
 * wire's own errno when it cannot be set up; EEXIST if already done.
 */
export function mtcp_init(conf: string | MtcpConfig, options: MtcpInitOptions = {}): number {
  if (runtime) {
    process.stderr.write('mtcp_init: this thread already has a runtime; mtcp_destroy() first\n');
    return fail(null, EEXIST);
  }
  try {
    const config = typeof conf === 'string' ? loadMtcpConf(conf) : structuredClone(conf);
    if (pendingConf) applyConf(config, pendingConf);
    runtime = new MtcpRuntime(config, options);
    // At start-up, one line: which arp.conf and route.conf the file brought in (or skipped, and why).
    if (typeof conf === 'string') process.stderr.write(`mtcp_init: ${sideFilesLine(config)}\n`);
    if (config.statPrint.includes(config.ports[0].name)) runtime.startStatPrint();
  } catch (err) {
    process.stderr.write(`mtcp_init: ${(err as Error).message}\n`);
    initErrno = errnoOf(err, EINVAL);
    return fail(null, initErrno);
  }
  initErrno = 0;
  return 0;
}

/** Adopt a runtime made in another thread (see mtcp_share); done automatically from workerData.mtcp. */
export function mtcp_attach(shared: MtcpShared): number {
  if (runtime) return fail(null, EEXIST);
  runtime = new MtcpRuntime(shared.config, shared); // the port under the io's name, and the statistics board
  return 0;
}

/**
 * What a worker thread needs to create contexts of this thread's runtime, for cores no other thread has a context of:
 * pass it as workerData.mtcp (runOnCores does this for every core). A core has one context across all threads: a
 * second one fails with EEXIST. A second stack (a client for this one's server) is not a context of this runtime:
 * give its worker mtcp_shm_peer().
 */
export function mtcp_share(): MtcpShared | null {
  if (!runtime) {
    process.stderr.write('mtcp_share: no runtime in this thread: mtcp_init first\n');
    fail(null, EINVAL);
    return null;
  }
  return runtime.share();
}

/**
 * The other end of this thread's shm wire (io = shm), for a second stack in a worker thread: pass it to the worker,
 * which calls `mtcp_init(conf, { shm: end })` with its own config (another address) and makes its own contexts. null
 * with EINVAL, and the reason on stderr, before mtcp_init or for another io.
 */
export function mtcp_shm_peer(): ShmWireEnd | null {
  if (!runtime || runtime.config.io !== 'shm') {
    process.stderr.write(`mtcp_shm_peer: ${runtime ? `io = ${runtime.config.io}, not shm` : 'no runtime in this thread: mtcp_init first'}\n`);
    fail(null, EINVAL);
    return null;
  }
  return runtime.shmPeer();
}

/** The runtime mtcp_init made in this thread (null before). */
export function mtcp_runtime(): MtcpRuntime | null {
  return runtime;
}

/** Stop every context of this thread and forget the configuration. */
export function mtcp_destroy(): void {
  runtime?.destroy();
  runtime = null;
  pendingConf = null;
}

/** Fill `conf` with the settings in force: mtcp_setconf's, else the runtime's, else each key's default. */
export function mtcp_getconf(conf: MtcpConf): number {
  if (!conf || typeof conf !== 'object') return fail(null, EINVAL);
  const c = runtime?.config;
  for (const [member, spec] of CONF_MEMBERS) {
    conf[member as MtcpConfName] = pendingConf?.[member as MtcpConfName] ?? (c ? c[spec.field] : spec.default);
  }
  return 0;
}

/**
 * Change settings before mtcp_init (EPERM after it). A member that is not one of struct mtcp_conf's, or a
 * value mtcp.conf would refuse for its key, fails with EINVAL and changes nothing.
 */
export function mtcp_setconf(conf: Partial<MtcpConf>): number {
  if (!conf || typeof conf !== 'object') return fail(null, EINVAL);
  if (runtime) return fail(null, EPERM);
  for (const [member, v] of Object.entries(conf)) {
    const spec = CONF_MEMBERS.get(member);
    if (!spec || typeof v !== 'number' || integerProblem(spec, v) !== null) return fail(null, EINVAL);
  }
  pendingConf = { ...pendingConf, ...conf };
  return 0;
}

/** Pin the calling thread to `core` (sched_setaffinity on this thread). */
export function mtcp_core_affinitize(core: number): number {
  const r = affinitize(core);
  return r === 0 ? 0 : fail(null, r);
}

/**
 * Make the context for `core`. Returns null on failure, the reason printed to stderr and errno naming it:
 * EINVAL (core out of range, or a setting the port cannot carry), EEXIST (the core has a context), ENODEV
 * (the packet device or its driver library is missing), or the driver's own (EACCES, EPERM, EBUSY ...).
 */
export function mtcp_create_context(core: number): MtcpContext | null {
  if (!runtime && !isMainThread && workerData && typeof workerData === 'object' && 'mtcp' in workerData) {
    mtcp_attach((workerData as { mtcp: MtcpShared }).mtcp);
  }
  if (!runtime) {
    process.stderr.write(`mtcp_create_context: no runtime in this thread: ${initErrno ? `mtcp_init failed (${errnoName(initErrno)})` : 'call mtcp_init first'}\n`);
    fail(null, initErrno || EINVAL);
    return null;
  }
  try {
    return runtime.createContext(core);
  } catch (err) {
    process.stderr.write(`mtcp_create_context: ${(err as Error).message}\n`);
    fail(null, errnoOf(err, EIO));
    return null;
  }
}

/** Close every socket of the context and stop its loop. `await mctx.closed` to know it has stopped. */
export function mtcp_destroy_context(mctx: MtcpContext): void {
  if (!checkCtx(mctx)) return;
  const st = mctx.sockets;
  for (let s = 0; s < st.capacity; s++) {
    if (st.kind[s] !== SocketKind.Free) mtcp_abort(mctx, s);
  }
  mctx.stack.flushOutput(mctx.now());
  mctx.stop();
}

// ---- sockets -------------------------------------------------------------

/** The socket `sockid` if it is in use (and of `kind` when given); else -1 with errno set. */
function getSocket(mctx: MtcpContext, sockid: number, kind?: SocketKind): number {
  if (!checkCtx(mctx)) return fail(null, EBADF);
  const st = mctx.sockets;
  if (!st.valid(sockid)) return fail(mctx, EBADF);
  if (kind !== undefined && st.kind[sockid] !== kind) return fail(mctx, ENOTSOCK);
  return sockid;
}

/** The TCP face of the context's stack. */
function tcpOf(mctx: MtcpContext): TcpSockets {
  return mctx.stack.tcp.sockets;
}

export function mtcp_socket(mctx: MtcpContext, domain: number, type: number, protocol: number): number {
  if (!checkCtx(mctx)) return fail(null, EBADF);
  if (domain !== C.AF_INET) return fail(mctx, EAFNOSUPPORT);
  if ((type & ~C.SOCK_NONBLOCK) !== C.SOCK_STREAM) return fail(mctx, EPROTOTYPE);
  if (protocol !== 0 && protocol !== C.IPPROTO_TCP) return fail(mctx, EPROTONOSUPPORT);
  const s = mctx.sockets.allocate(SocketKind.Stream);
  if (s < 0) return fail(mctx, EMFILE);
  mctx.sockets.nonblock[s] = (type & C.SOCK_NONBLOCK) !== 0 ? 1 : 0;
  return s;
}

/** A valid AF_INET address, or errno set and false. */
function checkAddr(mctx: MtcpContext, addr: SockAddrIn | null | undefined): boolean {
  let errno = 0;
  if (!addr || typeof addr !== 'object') errno = EINVAL;
  else if (addr.sin_family !== C.AF_INET) errno = EAFNOSUPPORT;
  else if (!Number.isInteger(addr.sin_port) || addr.sin_port < 0 || addr.sin_port > 0xffff) errno = EINVAL;
  else if (!Number.isInteger(addr.sin_addr) || addr.sin_addr < 0 || addr.sin_addr > 0xffffffff) errno = EINVAL;
  if (errno !== 0) fail(mctx, errno);
  return errno === 0;
}

export function mtcp_bind(mctx: MtcpContext, sockid: number, addr: SockAddrIn): number {
  const s = getSocket(mctx, sockid, SocketKind.Stream);
  if (s < 0) return -1;
  if (!checkAddr(mctx, addr)) return -1;
  const st = mctx.sockets;
  if (st.boundPort[s] !== 0 || st.conn[s] >= 0) return fail(mctx, EINVAL);
  if (addr.sin_addr !== 0 && (addr.sin_addr | 0) !== mctx.stack.ip) return fail(mctx, EADDRNOTAVAIL);
  if (addr.sin_port !== 0 && st.reuseAddr[s] === 0 && st.boundExclusively(addr.sin_port)) return fail(mctx, EADDRINUSE);
  st.bind(s, addr.sin_addr, addr.sin_port);
  return 0;
}

export function mtcp_listen(mctx: MtcpContext, sockid: number, backlog: number): number {
  const s = getSocket(mctx, sockid);
  if (s < 0) return -1;
  const st = mctx.sockets;
  if (st.kind[s] === SocketKind.Listener) return 0;
  if (st.kind[s] !== SocketKind.Stream) return fail(mctx, ENOTSOCK);
  if (st.conn[s] >= 0) return fail(mctx, EISCONN);
  if (st.boundPort[s] === 0) return fail(mctx, EINVAL); // mTCP requires bind before listen
  if (!Number.isInteger(backlog)) return fail(mctx, EINVAL);
  const tcp = tcpOf(mctx);
  const r = tcp.listen(s, st.boundIp[s], st.boundPort[s], backlog <= 0 ? 128 : Math.min(backlog, st.capacity));
  if (r !== 0) return fail(mctx, r);
  st.kind[s] = SocketKind.Listener;
  st.listeners.set(s, tcp.listener(st.boundPort[s])!);
  return 0;
}

/** Accept a connection; `addr`, when given, receives the peer's address. EAGAIN when none is waiting. */
export function mtcp_accept(mctx: MtcpContext, sockid: number, addr: SockAddrIn | null = null): number {
  const s = getSocket(mctx, sockid);
  if (s < 0) return -1;
  const st = mctx.sockets;
  const l = st.listeners.get(s);
  if (st.kind[s] !== SocketKind.Listener || !l) return fail(mctx, EINVAL);
  if (l.queueCount === 0) return fail(mctx, EAGAIN);
  const ns = st.allocate(SocketKind.Stream);
  if (ns < 0) return fail(mctx, EMFILE);
  const tcp = tcpOf(mctx);
  const c = tcp.accept(l, ns);
  if (c < 0) {
    st.release(ns);
    return fail(mctx, EAGAIN);
  }
  st.conn[ns] = c;
  st.bind(ns, tcp.localIp(c), tcp.localPort(c));
  st.noDelay[ns] = st.noDelay[s];
  tcp.setNoDelay(c, st.noDelay[s] !== 0);
  st.keepAlive[ns] = st.keepAlive[s];
  st.keepIdleSec[ns] = st.keepIdleSec[s];
  st.keepIntvlSec[ns] = st.keepIntvlSec[s];
  st.keepCnt[ns] = st.keepCnt[s];
  applyKeepAlive(mctx, ns);
  if (addr) {
    addr.sin_family = C.AF_INET;
    addr.sin_addr = tcp.remoteIp(c) >>> 0;
    addr.sin_port = tcp.remotePort(c);
  }
  return ns;
}

/**
 * Prepare this core's connections from `saddr_base` (`num_addr` addresses) to
 * daddr:dport. mTCP builds here the per-core pool of source ports whose RSS
 * hash brings the replies back to the calling core, and needs it before
 * connecting from several cores (CreateAddressPoolPerCore). mtcp-ts chooses
 * such a port on every mtcp_connect, so the call checks its arguments: the
 * source must be this context's address (0 means it) and one address, since a
 * port has one; the destination a unicast address and a port. Returns 0, or -1
 * with EINVAL (bad count, port or destination) or EADDRNOTAVAIL (not our address).
 */
export function mtcp_init_rss(mctx: MtcpContext, saddr_base: number, num_addr: number, daddr: number, dport: number): number {
  if (!checkCtx(mctx)) return fail(null, EBADF);
  if (!Number.isInteger(num_addr) || num_addr !== 1) return fail(mctx, EINVAL);
  if (!Number.isInteger(dport) || dport < 1 || dport > 0xffff) return fail(mctx, EINVAL);
  if (!Number.isInteger(daddr) || daddr <= 0 || daddr >= 0xe0000000) return fail(mctx, EINVAL);
  if (!Number.isInteger(saddr_base) || (saddr_base !== 0 && (saddr_base | 0) !== mctx.stack.ip)) return fail(mctx, EADDRNOTAVAIL);
  return 0;
}

/**
 * Start connecting. Returns -1 with EINPROGRESS: wait for MTCP_EPOLLOUT, then
 * check SO_ERROR. With several cores, the source port is one whose RSS hash
 * brings the replies to this core; a socket bound to a port that would not is
 * refused with EINVAL, as mTCP does.
 */
export function mtcp_connect(mctx: MtcpContext, sockid: number, addr: SockAddrIn): number {
  const s = getSocket(mctx, sockid);
  if (s < 0) return -1;
  const st = mctx.sockets;
  if (st.kind[s] !== SocketKind.Stream) return fail(mctx, st.kind[s] === SocketKind.Listener ? EISCONN : ENOTSOCK);
  if (!checkAddr(mctx, addr)) return -1;
  const tcp = tcpOf(mctx);
  if (st.conn[s] >= 0) {
    const state = tcp.state(st.conn[s]);
    if (state === State.SynSent || state === State.SynReceived) return fail(mctx, EALREADY);
    return fail(mctx, EISCONN);
  }
  if (addr.sin_addr === 0 || addr.sin_port === 0) return fail(mctx, EINVAL);
  mctx.syncClock();
  const c = tcp.connect(s, mctx.stack.ip, st.boundPort[s], addr.sin_addr, addr.sin_port);
  if (c < 0) return fail(mctx, -c);
  tcp.setNoDelay(c, st.noDelay[s] !== 0);
  st.conn[s] = c;
  applyKeepAlive(mctx, s);
  st.bind(s, tcp.localIp(c), tcp.localPort(c));
  mctx.kick();
  return fail(mctx, EINPROGRESS);
}

function detachFromEpoll(mctx: MtcpContext, s: number): void {
  const st = mctx.sockets;
  const ep = st.epollId[s];
  if (ep < 0) return;
  st.epolls.get(ep)?.forget(s);
  st.epollId[s] = -1;
}

/** Close a socket: the connection closes gracefully (FIN) in the background. */
export function mtcp_close(mctx: MtcpContext, sockid: number): number {
  const s = getSocket(mctx, sockid);
  if (s < 0) return -1;
  const st = mctx.sockets;
  detachFromEpoll(mctx, s);
  const kind = st.kind[s];
  if (kind === SocketKind.Listener) {
    tcpOf(mctx).unlisten(st.boundPort[s]);
  } else if (kind === SocketKind.Epoll) {
    for (const o of st.registeredWith(s)) st.epollId[o] = -1;
  } else if (st.conn[s] >= 0) {
    mctx.syncClock();
    tcpOf(mctx).close(st.conn[s]);
  }
  st.release(s);
  mctx.kick();
  return 0;
}

/** Close a socket abortively: a RST is sent and queued data is discarded. */
export function mtcp_abort(mctx: MtcpContext, sockid: number): number {
  const s = getSocket(mctx, sockid);
  if (s < 0) return -1;
  const st = mctx.sockets;
  if (st.kind[s] !== SocketKind.Stream || st.conn[s] < 0) return mtcp_close(mctx, sockid);
  detachFromEpoll(mctx, s);
  mctx.syncClock();
  tcpOf(mctx).abort(st.conn[s]);
  st.release(s);
  mctx.kick();
  return 0;
}

export function mtcp_shutdown(mctx: MtcpContext, sockid: number, how: number): number {
  const s = getSocket(mctx, sockid, SocketKind.Stream);
  if (s < 0) return -1;
  if (how !== C.SHUT_RD && how !== C.SHUT_WR && how !== C.SHUT_RDWR) return fail(mctx, EINVAL);
  const st = mctx.sockets;
  const c = st.conn[s];
  const tcp = tcpOf(mctx);
  if (c < 0 || tcp.state(c) === State.SynSent || tcp.state(c) === State.Closed) return fail(mctx, ENOTCONN);
  if (how !== C.SHUT_WR) st.shutRd[s] = 1;
  if (how !== C.SHUT_RD) {
    mctx.syncClock();
    const r = tcp.shutdownWrite(c);
    if (r !== 0) return fail(mctx, r);
  }
  mctx.kick();
  return 0;
}

/** The connection of stream socket `sockid`; -1 with errno set when it is not one, or not connected. */
function streamFor(mctx: MtcpContext, sockid: number): number {
  const s = getSocket(mctx, sockid);
  if (s < 0) return -1;
  const st = mctx.sockets;
  if (st.kind[s] !== SocketKind.Stream) return fail(mctx, st.kind[s] === SocketKind.Listener ? ENOTCONN : EINVAL);
  if (st.conn[s] < 0) return fail(mctx, ENOTCONN);
  return st.conn[s];
}

/** A Uint8Array holding at least len bytes, or errno EINVAL and false. */
function checkBuf(mctx: MtcpContext, buf: Uint8Array, len: number): boolean {
  if (buf instanceof Uint8Array && Number.isInteger(len) && len >= 0 && len <= buf.length) return true;
  fail(mctx, EINVAL);
  return false;
}

/** Read up to `len` bytes into `buf`. Returns bytes read, 0 at end of stream, -1 with EAGAIN when nothing is there. */
export function mtcp_read(mctx: MtcpContext, sockid: number, buf: Uint8Array, len: number): number {
  return mtcp_recv(mctx, sockid, buf, len, 0);
}

/** mtcp_read with flags: MSG_PEEK leaves the data in place. */
export function mtcp_recv(mctx: MtcpContext, sockid: number, buf: Uint8Array, len: number, flags: number): number {
  const c = streamFor(mctx, sockid);
  if (c < 0) return -1;
  if (!checkBuf(mctx, buf, len)) return -1;
  if ((flags & ~C.MSG_PEEK) !== 0) return fail(mctx, EOPNOTSUPP);
  if (mctx.sockets.shutRd[sockid] !== 0) return 0;
  const n = tcpOf(mctx).receive(c, buf, 0, len, (flags & C.MSG_PEEK) !== 0);
  if (n < 0) return fail(mctx, -n);
  if (n > 0) mctx.kick();
  return n;
}

/** Moves bytes between connection `c` and `len` bytes of `buf`: receives into it or sends from it; bytes moved, or -errno. */
type MoveBytes = (tcp: TcpSockets, c: number, buf: Uint8Array, len: number) => number;
const receiveInto: MoveBytes = (tcp, c, buf, len) => tcp.receive(c, buf, 0, len, false);
const sendFrom: MoveBytes = (tcp, c, buf, len) => tcp.send(c, buf, 0, len);

/**
 * readv and writev: `move` over the first `iovcnt` buffers of `iov` in turn, stopping at one it did not
 * fill or empty. The bytes moved; an error after some bytes moved returns those (as readv(2) and writev(2)
 * do), a first error -1 with its errno.
 */
function overIoVec(mctx: MtcpContext, c: number, iov: IoVec[], iovcnt: number, move: MoveBytes): number {
  const tcp = tcpOf(mctx);
  let total = 0;
  for (let i = 0; i < iovcnt; i++) {
    const v = iov[i];
    if (!checkBuf(mctx, v.iov_base, v.iov_len)) return -1;
    if (v.iov_len === 0) continue;
    const n = move(tcp, c, v.iov_base, v.iov_len);
    if (n < 0) return total > 0 ? total : fail(mctx, -n);
    total += n;
    if (n < v.iov_len) break;
  }
  return total;
}

export function mtcp_readv(mctx: MtcpContext, sockid: number, iov: IoVec[], iovcnt: number): number {
  const c = streamFor(mctx, sockid);
  if (c < 0) return -1;
  if (!Array.isArray(iov) || !Number.isInteger(iovcnt) || iovcnt < 0 || iovcnt > iov.length) return fail(mctx, EINVAL);
  if (mctx.sockets.shutRd[sockid] !== 0) return 0;
  const total = overIoVec(mctx, c, iov, iovcnt, receiveInto);
  if (total > 0) mctx.kick();
  return total;
}

/**
 * Queue up to `len` bytes of `buf`. Returns bytes queued (maybe fewer), -1 with EAGAIN when the send buffer is full,
 * or with ENOMEM when the connection needs a send buffer and the pool has none left (as mTCP's).
 */
export function mtcp_write(mctx: MtcpContext, sockid: number, buf: Uint8Array, len: number): number {
  const c = streamFor(mctx, sockid);
  if (c < 0) return -1;
  if (!checkBuf(mctx, buf, len)) return -1;
  const n = tcpOf(mctx).send(c, buf, 0, len);
  if (n < 0) return fail(mctx, -n);
  mctx.kick();
  return n;
}

export function mtcp_writev(mctx: MtcpContext, sockid: number, iov: IoVec[], iovcnt: number): number {
  const c = streamFor(mctx, sockid);
  if (c < 0) return -1;
  if (!Array.isArray(iov) || !Number.isInteger(iovcnt) || iovcnt < 0 || iovcnt > iov.length) return fail(mctx, EINVAL);
  const total = overIoVec(mctx, c, iov, iovcnt, sendFrom);
  if (total > 0) mctx.kick();
  return total;
}

// ---- options ---------------------------------------------------------------

/** A socket option: how it reads and, unless it is read-only, how it is set (0, or the errno that refuses the value). */
interface SocketOption {
  get(mctx: MtcpContext, s: number): number;
  set?(mctx: MtcpContext, s: number, value: number): number;
}

/** TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT: a per-socket field within Linux's range (1..32767 seconds, 1..127 probes), applied at once. */
function keepAliveParameter(field: 'keepIdleSec' | 'keepIntvlSec' | 'keepCnt', max: number): SocketOption {
  return {
    get: (mctx, s) => mctx.sockets[field][s],
    set(mctx, s, value) {
      if (value < 1 || value > max) return EINVAL;
      mctx.sockets[field][s] = value;
      applyKeepAlive(mctx, s);
      return 0;
    },
  };
}

/**
 * SO_RCVBUF, SO_SNDBUF: only the configured buffer size is taken. Buffers come from fixed-size pools, so
 * another value is refused with EINVAL, never silently ignored.
 */
function bufferSize(field: 'rcvbuf' | 'sndbuf'): SocketOption {
  return {
    get: (mctx, s) => mctx.sockets[field][s] || mctx.stack.tcp.config[field],
    set(mctx, s, value) {
      if (value !== mctx.stack.tcp.config[field]) return EINVAL;
      mctx.sockets[field][s] = value;
      return 0;
    },
  };
}

/** The options by level and name. */
const SOCKET_OPTIONS = new Map<number, Map<number, SocketOption>>([
  [C.SOL_SOCKET, new Map<number, SocketOption>([
    [C.SO_ERROR, {
      get(mctx, s) {
        const c = mctx.sockets.conn[s];
        const tcp = tcpOf(mctx);
        return c >= 0 && tcp.failed(c) ? tcp.takeError(c) : 0; // reading SO_ERROR clears it
      },
    }],
    [C.SO_REUSEADDR, {
      get: (mctx, s) => mctx.sockets.reuseAddr[s],
      set(mctx, s, value) {
        mctx.sockets.setReuseAddr(s, value !== 0);
        return 0;
      },
    }],
    [C.SO_RCVBUF, bufferSize('rcvbuf')],
    [C.SO_SNDBUF, bufferSize('sndbuf')],
    [C.SO_TYPE, { get: () => C.SOCK_STREAM }],
    [C.SO_KEEPALIVE, {
      get: (mctx, s) => mctx.sockets.keepAlive[s],
      set(mctx, s, value) {
        mctx.sockets.keepAlive[s] = value !== 0 ? 1 : 0;
        applyKeepAlive(mctx, s);
        return 0;
      },
    }],
  ])],
  [C.IPPROTO_TCP, new Map<number, SocketOption>([
    [C.TCP_NODELAY, {
      get: (mctx, s) => mctx.sockets.noDelay[s],
      set(mctx, s, value) {
        const st = mctx.sockets;
        st.noDelay[s] = value !== 0 ? 1 : 0;
        if (st.conn[s] >= 0) tcpOf(mctx).setNoDelay(st.conn[s], value !== 0);
        return 0;
      },
    }],
    [C.TCP_KEEPIDLE, keepAliveParameter('keepIdleSec', 32767)],
    [C.TCP_KEEPINTVL, keepAliveParameter('keepIntvlSec', 32767)],
    [C.TCP_KEEPCNT, keepAliveParameter('keepCnt', 127)],
  ])],
]);

/** SO_ERROR, SO_REUSEADDR, SO_RCVBUF, SO_SNDBUF, SO_TYPE, SO_KEEPALIVE, TCP_NODELAY, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT. Anything else: ENOPROTOOPT. */
export function mtcp_getsockopt(mctx: MtcpContext, sockid: number, level: number, optname: number, optval: IntRef): number {
  const s = getSocket(mctx, sockid);
  if (s < 0) return -1;
  if (!optval || typeof optval !== 'object') return fail(mctx, EINVAL);
  const option = SOCKET_OPTIONS.get(level)?.get(optname);
  if (!option) return fail(mctx, ENOPROTOOPT);
  optval.value = option.get(mctx, s);
  return 0;
}

/**
 * Supported: SO_REUSEADDR, TCP_NODELAY, SO_KEEPALIVE with TCP_KEEPIDLE,
 * TCP_KEEPINTVL and TCP_KEEPCNT, and SO_RCVBUF/SO_SNDBUF equal to the
 * configured buffer size (buffers come from fixed-size pools: another value
 * is refused with EINVAL, never silently ignored). Anything else (SO_ERROR
 * and SO_TYPE are read-only): ENOPROTOOPT.
 */
export function mtcp_setsockopt(mctx: MtcpContext, sockid: number, level: number, optname: number, optval: number): number {
  const s = getSocket(mctx, sockid);
  if (s < 0) return -1;
  if (!Number.isInteger(optval)) return fail(mctx, EINVAL);
  const option = SOCKET_OPTIONS.get(level)?.get(optname);
  if (!option?.set) return fail(mctx, ENOPROTOOPT);
  const errno = option.set(mctx, s, optval);
  return errno === 0 ? 0 : fail(mctx, errno);
}

export function mtcp_setsock_nonblock(mctx: MtcpContext, sockid: number): number {
  const s = getSocket(mctx, sockid);
  if (s < 0) return -1;
  mctx.sockets.nonblock[s] = 1;
  return 0;
}

/** FIONREAD: bytes readable; SIOCOUTQ: bytes not yet acknowledged; FIONBIO: set (value != 0) or clear non-blocking. */
export function mtcp_socket_ioctl(mctx: MtcpContext, sockid: number, request: number, argp: IntRef): number {
  const s = getSocket(mctx, sockid);
  if (s < 0) return -1;
  if (!argp || typeof argp !== 'object') return fail(mctx, EINVAL);
  const st = mctx.sockets;
  const c = st.conn[s];
  switch (request) {
    case C.FIONREAD:
      if (st.kind[s] !== SocketKind.Stream) return fail(mctx, EINVAL);
      argp.value = c >= 0 ? tcpOf(mctx).readable(c) : 0;
      return 0;
    case C.SIOCOUTQ:
      if (st.kind[s] !== SocketKind.Stream) return fail(mctx, EINVAL);
      argp.value = c >= 0 ? tcpOf(mctx).unacknowledged(c) : 0;
      return 0;
    case C.FIONBIO:
      st.nonblock[s] = argp.value !== 0 ? 1 : 0;
      return 0;
    default:
      return fail(mctx, EINVAL);
  }
}

export function mtcp_getsockname(mctx: MtcpContext, sockid: number, addr: SockAddrIn): number {
  const s = getSocket(mctx, sockid);
  if (s < 0) return -1;
  if (!addr || typeof addr !== 'object') return fail(mctx, EINVAL);
  const st = mctx.sockets;
  const c = st.conn[s];
  const tcp = tcpOf(mctx);
  addr.sin_family = C.AF_INET;
  addr.sin_addr = (c >= 0 ? tcp.localIp(c) : st.boundIp[s]) >>> 0;
  addr.sin_port = c >= 0 ? tcp.localPort(c) : st.boundPort[s];
  return 0;
}

export function mtcp_getpeername(mctx: MtcpContext, sockid: number, addr: SockAddrIn): number {
  const s = getSocket(mctx, sockid);
  if (s < 0) return -1;
  if (!addr || typeof addr !== 'object') return fail(mctx, EINVAL);
  const c = mctx.sockets.conn[s];
  const tcp = tcpOf(mctx);
  if (c < 0 || tcp.state(c) === State.SynSent || (tcp.state(c) === State.Closed && !tcp.failed(c))) return fail(mctx, ENOTCONN);
  addr.sin_family = C.AF_INET;
  addr.sin_addr = tcp.remoteIp(c) >>> 0;
  addr.sin_port = tcp.remotePort(c);
  return 0;
}

// ---- epoll ------------------------------------------------------------------

/** Create an epoll instance; returns its socket id. `size` is a hint, as in Linux (must be > 0). */
export function mtcp_epoll_create(mctx: MtcpContext, size: number): number {
  if (!checkCtx(mctx)) return fail(null, EBADF);
  if (!Number.isInteger(size) || size <= 0) return fail(mctx, EINVAL);
  const st = mctx.sockets;
  const s = st.allocate(SocketKind.Epoll);
  if (s < 0) return fail(mctx, EMFILE);
  st.epolls.set(s, new Epoll(mctx, st.capacity));
  return s;
}

export function mtcp_epoll_ctl(mctx: MtcpContext, epid: number, op: number, sockid: number, event: MtcpEpollEvent | null): number {
  const e = getSocket(mctx, epid, SocketKind.Epoll);
  if (e < 0) return -1;
  const s = getSocket(mctx, sockid);
  if (s < 0) return -1;
  const st = mctx.sockets;
  if (st.kind[s] === SocketKind.Epoll) return fail(mctx, EINVAL);
  const current = st.epollId[s];
  if (op === MTCP_EPOLL_CTL_ADD && current >= 0 && current !== epid) return fail(mctx, EEXIST);
  if ((op === MTCP_EPOLL_CTL_MOD || op === MTCP_EPOLL_CTL_DEL) && current !== epid) return fail(mctx, ENOENT);
  const r = st.epolls.get(e)!.ctl(op, sockid, event);
  if (r !== 0) return fail(mctx, r);
  if (op === MTCP_EPOLL_CTL_ADD) st.epollId[s] = epid;
  else if (op === MTCP_EPOLL_CTL_DEL) st.epollId[s] = -1;
  return 0;
}

/** mtcp_epoll_wait's bad-context message is printed once per stopped context, and once per thread for a value that is no context. */
const reportedStopped = new WeakSet<MtcpContext>();
let reportedNonContext = false;

/**
 * Say why mtcp_epoll_wait fails at once for `mctx`: C resolves -1 at once too, and a loop that does not stop on -1 then
 * spins, so the reason reaches stderr (once, not at every turn of such a loop).
 */
function reportBadContext(mctx: unknown): void {
  let why: string;
  if (mctx instanceof MtcpContext) {
    if (reportedStopped.has(mctx)) return;
    reportedStopped.add(mctx);
    why = `the context of core ${mctx.core} is stopped (mtcp_destroy_context or mtcp_destroy)`;
  } else {
    if (reportedNonContext) return;
    reportedNonContext = true;
    why = `${String(mctx)} is not a context (did mtcp_create_context return null?)`;
  }
  process.stderr.write(`mtcp_epoll_wait: ${why}; -1 with EBADF, and a loop must stop on -1\n`);
}

/**
 * Wait up to `timeoutMs` (-1: forever, 0: just poll) for events. Resolves to
 * the number of entries of `events` filled (at most `maxevents`, and at most 16 per turn of the
 * context's loop: see EVENTS_PER_TURN in context.ts), 0 on timeout, -1 on error (EBADF for a context that is not running, with
 * a message; EBADF or EINVAL for a bad epoll id or events array): a loop stops on -1.
 */
export function mtcp_epoll_wait(
  mctx: MtcpContext, epid: number, events: MtcpEpollEvent[], maxevents: number, timeoutMs: number,
): Promise<number> {
  // Not async: a failed call resolves a shared promise and a good one returns the context's own, so
  // a wait costs one promise, not two.
  if (!checkCtx(mctx)) {
    reportBadContext(mctx);
    fail(null, EBADF);
    return FAILED;
  }
  const e = getSocket(mctx, epid, SocketKind.Epoll);
  if (e < 0) return FAILED;
  if (!Array.isArray(events) || !Number.isInteger(maxevents) || maxevents <= 0 || maxevents > events.length) {
    fail(mctx, EINVAL);
    return FAILED;
  }
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) {
    fail(mctx, EINVAL);
    return FAILED;
  }
  return mctx.wait(mctx.sockets.epolls.get(e)!, events, maxevents, timeoutMs);
}
