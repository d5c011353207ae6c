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
import { loadMtcpConf, maskCpus, type MtcpConfig } from '../config/mtcp-conf.ts';
import { Epoll } from '../epoll/epoll.ts';
import type { MtcpEpollEvent } from '../epoll/events.ts';
import { MTCP_EPOLL_CTL_ADD, MTCP_EPOLL_CTL_DEL, MTCP_EPOLL_CTL_MOD } from '../epoll/events.ts';
import { ConfigError } from '../config/errors.ts';
import {
  EADDRINUSE, EADDRNOTAVAIL, EAFNOSUPPORT, EAGAIN, EALREADY, EBADF, EEXIST, EINPROGRESS, EINVAL, EIO, EISCONN, EMFILE, ENOENT,
  ENOPROTOOPT, ENOTCONN, ENOTSOCK, EOPNOTSUPP, EPERM, EPROTONOSUPPORT, EPROTOTYPE, ErrnoError,
} from '../stack/errno.ts';
import { State } from '../stack/tcp/state.ts';
import { affinitize } from './affinity.ts';
import { MtcpContext } from './context.ts';
import { MtcpRuntime, type MtcpInitOptions, type MtcpShared } from './runtime.ts';
import { Socket, SocketKind } from './socket-table.ts';
import * as C from './constants.ts';

export type mctx_t = MtcpContext;

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
let pendingConf: Partial<MtcpConf> | null = null;

/** errno of the last failed call in this thread. */
export function mtcp_errno(): number {
  return lastErrno;
}

/** Apply the socket's keepalive settings to its connection. */
function applyKeepAlive(mctx: MtcpContext, s: Socket): void {
  mctx.syncClock();
  if (s.tcb) mctx.stack.tcp.setKeepAlive(s.tcb, s.keepAlive, s.keepIdleSec * 1000, s.keepIntvlSec * 1000, s.keepCnt);
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
  if (err instanceof ErrnoError) return err.errno;
  if (err instanceof RangeError || err instanceof ConfigError) return EINVAL;
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
  if (runtime) return fail(null, EEXIST);
  try {
    const config = typeof conf === 'string' ? loadMtcpConf(conf) : structuredClone(conf);
    if (pendingConf) applyConf(config, pendingConf);
    runtime = new MtcpRuntime(config, options);
    if (config.statPrint.includes(config.ports[0].name)) runtime.startStatPrint();
  } catch (err) {
    process.stderr.write(`mtcp_init: ${(err as Error).message}\n`);
    return fail(null, errnoOf(err, EINVAL));
  }
  return 0;
}

/** Adopt a runtime made in another thread (see mtcp_share); done automatically from workerData.mtcp. */
export function mtcp_attach(shared: MtcpShared): number {
  if (runtime) return fail(null, EEXIST);
  runtime = new MtcpRuntime(shared.config, shared); // the port under the io's name, and the statistics board
  return 0;
}

/** What a worker thread needs to create contexts of this thread's runtime: pass it as workerData.mtcp. */
export function mtcp_share(): MtcpShared | null {
  return runtime ? runtime.share() : null;
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
    fail(null, EINVAL);
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
  for (const s of mctx.sockets.sockets) {
    if (s.kind !== SocketKind.Free) mtcp_abort(mctx, s.id);
  }
  mctx.stack.flushOutput(mctx.now());
  mctx.stop();
}

// ---- sockets -------------------------------------------------------------

function getSocket(mctx: MtcpContext, sockid: number, kind?: SocketKind): Socket | null {
  if (!checkCtx(mctx)) {
    fail(null, EBADF);
    return null;
  }
  const s = mctx.sockets.get(sockid);
  if (!s) {
    fail(mctx, EBADF);
    return null;
  }
  if (kind !== undefined && s.kind !== kind) {
    fail(mctx, ENOTSOCK);
    return null;
  }
  return s;
}

export function mtcp_socket(mctx: MtcpContext, domain: number, type: number, protocol: number): number {
  if (!checkCtx(mctx)) return fail(null, EBADF);
  if (domain !== C.AF_INET) return fail(mctx, EAFNOSUPPORT);
  if ((type & ~C.SOCK_NONBLOCK) !== C.SOCK_STREAM) return fail(mctx, EPROTOTYPE);
  if (protocol !== 0 && protocol !== C.IPPROTO_TCP) return fail(mctx, EPROTONOSUPPORT);
  const s = mctx.sockets.allocate(SocketKind.Stream);
  if (!s) return fail(mctx, EMFILE);
  s.nonblock = (type & C.SOCK_NONBLOCK) !== 0;
  return s.id;
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
  if (!s) return -1;
  if (!checkAddr(mctx, addr)) return -1;
  if (s.boundPort !== 0 || s.tcb) return fail(mctx, EINVAL);
  if (addr.sin_addr !== 0 && (addr.sin_addr | 0) !== mctx.stack.ip) return fail(mctx, EADDRNOTAVAIL);
  if (addr.sin_port !== 0 && !s.reuseAddr) {
    for (const o of mctx.sockets.sockets) {
      if (o !== s && o.kind !== SocketKind.Free && o.kind !== SocketKind.Epoll && o.boundPort === addr.sin_port && !o.reuseAddr) {
        return fail(mctx, EADDRINUSE);
      }
    }
  }
  s.boundIp = addr.sin_addr | 0;
  s.boundPort = addr.sin_port;
  return 0;
}

export function mtcp_listen(mctx: MtcpContext, sockid: number, backlog: number): number {
  const s = getSocket(mctx, sockid);
  if (!s) return -1;
  if (s.kind === SocketKind.Listener) return 0;
  if (s.kind !== SocketKind.Stream) return fail(mctx, ENOTSOCK);
  if (s.tcb) return fail(mctx, EISCONN);
  if (s.boundPort === 0) return fail(mctx, EINVAL); // mTCP requires bind before listen
  if (!Number.isInteger(backlog)) return fail(mctx, EINVAL);
  const max = mctx.sockets.capacity;
  const r = mctx.stack.tcp.listen(s.id, s.boundIp, s.boundPort, backlog <= 0 ? 128 : Math.min(backlog, max));
  if (r !== 0) return fail(mctx, r);
  s.kind = SocketKind.Listener;
  s.listener = mctx.stack.tcp.listeners.get(s.boundPort) ?? null;
  return 0;
}

/** Accept a connection; `addr`, when given, receives the peer's address. EAGAIN when none is waiting. */
export function mtcp_accept(mctx: MtcpContext, sockid: number, addr: SockAddrIn | null = null): number {
  const s = getSocket(mctx, sockid);
  if (!s) return -1;
  if (s.kind !== SocketKind.Listener || !s.listener) return fail(mctx, EINVAL);
  if (s.listener.queueCount === 0) return fail(mctx, EAGAIN);
  const ns = mctx.sockets.allocate(SocketKind.Stream);
  if (!ns) return fail(mctx, EMFILE);
  const t = mctx.stack.tcp.accept(s.listener, ns.id);
  if (!t) {
    mctx.sockets.release(ns);
    return fail(mctx, EAGAIN);
  }
  ns.tcb = t;
  ns.boundIp = t.localIp;
  ns.boundPort = t.localPort;
  ns.noDelay = s.noDelay;
  t.noDelay = s.noDelay;
  ns.keepAlive = s.keepAlive;
  ns.keepIdleSec = s.keepIdleSec;
  ns.keepIntvlSec = s.keepIntvlSec;
  ns.keepCnt = s.keepCnt;
  applyKeepAlive(mctx, ns);
  if (addr) {
    addr.sin_family = C.AF_INET;
    addr.sin_addr = t.remoteIp >>> 0;
    addr.sin_port = t.remotePort;
  }
  return ns.id;
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
  if (!s) return -1;
  if (s.kind !== SocketKind.Stream) return fail(mctx, s.kind === SocketKind.Listener ? EISCONN : ENOTSOCK);
  if (!checkAddr(mctx, addr)) return -1;
  if (s.tcb) {
    const st = s.tcb.state;
    if (st === State.SynSent || st === State.SynReceived) return fail(mctx, EALREADY);
    return fail(mctx, EISCONN);
  }
  if (addr.sin_addr === 0 || addr.sin_port === 0) return fail(mctx, EINVAL);
  mctx.syncClock();
  const r = mctx.stack.tcp.connect(s.id, mctx.stack.ip, s.boundPort, addr.sin_addr, addr.sin_port);
  if (typeof r === 'number') return fail(mctx, -r);
  r.noDelay = s.noDelay;
  s.tcb = r;
  applyKeepAlive(mctx, s);
  s.boundIp = r.localIp;
  s.boundPort = r.localPort;
  mctx.kick();
  return fail(mctx, EINPROGRESS);
}

function detachFromEpoll(mctx: MtcpContext, s: Socket): void {
  if (s.epollId < 0) return;
  mctx.sockets.sockets[s.epollId].epoll?.forget(s.id);
  s.epollId = -1;
}

/** Close a socket: the connection closes gracefully (FIN) in the background. */
export function mtcp_close(mctx: MtcpContext, sockid: number): number {
  const s = getSocket(mctx, sockid);
  if (!s) return -1;
  detachFromEpoll(mctx, s);
  if (s.kind === SocketKind.Listener) {
    mctx.stack.tcp.unlisten(s.boundPort);
  } else if (s.kind === SocketKind.Epoll) {
    for (const o of mctx.sockets.sockets) if (o.epollId === s.id) o.epollId = -1;
  } else if (s.tcb) {
    mctx.syncClock();
    mctx.stack.tcp.close(s.tcb);
  }
  mctx.sockets.release(s);
  mctx.kick();
  return 0;
}

/** Close a socket abortively: a RST is sent and queued data is discarded. */
export function mtcp_abort(mctx: MtcpContext, sockid: number): number {
  const s = getSocket(mctx, sockid);
  if (!s) return -1;
  if (s.kind !== SocketKind.Stream || !s.tcb) return mtcp_close(mctx, sockid);
  detachFromEpoll(mctx, s);
  mctx.syncClock();
  mctx.stack.tcp.abort(s.tcb);
  mctx.sockets.release(s);
  mctx.kick();
  return 0;
}

export function mtcp_shutdown(mctx: MtcpContext, sockid: number, how: number): number {
  const s = getSocket(mctx, sockid, SocketKind.Stream);
  if (!s) return -1;
  if (how !== C.SHUT_RD && how !== C.SHUT_WR && how !== C.SHUT_RDWR) return fail(mctx, EINVAL);
  if (!s.tcb || s.tcb.state === State.SynSent || s.tcb.state === State.Closed) return fail(mctx, ENOTCONN);
  if (how !== C.SHUT_WR) s.shutRd = true;
  if (how !== C.SHUT_RD) {
    mctx.syncClock();
    const r = mctx.stack.tcp.shutdownWrite(s.tcb);
    if (r !== 0) return fail(mctx, r);
  }
  mctx.kick();
  return 0;
}

function streamFor(mctx: MtcpContext, sockid: number): Socket | null {
  const s = getSocket(mctx, sockid);
  if (!s) return null;
  if (s.kind !== SocketKind.Stream) {
    fail(mctx, s.kind === SocketKind.Listener ? ENOTCONN : EINVAL);
    return null;
  }
  if (!s.tcb) {
    fail(mctx, ENOTCONN);
    return null;
  }
  return s;
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
  const s = streamFor(mctx, sockid);
  if (!s) return -1;
  if (!checkBuf(mctx, buf, len)) return -1;
  if ((flags & ~C.MSG_PEEK) !== 0) return fail(mctx, EOPNOTSUPP);
  if (s.shutRd) return 0;
  const n = mctx.stack.tcp.receive(s.tcb!, buf, 0, len, (flags & C.MSG_PEEK) !== 0);
  if (n < 0) return fail(mctx, -n);
  if (n > 0) mctx.kick();
  return n;
}

export function mtcp_readv(mctx: MtcpContext, sockid: number, iov: IoVec[], iovcnt: number): number {
  const s = streamFor(mctx, sockid);
  if (!s) return -1;
  if (!Array.isArray(iov) || !Number.isInteger(iovcnt) || iovcnt < 0 || iovcnt > iov.length) return fail(mctx, EINVAL);
  if (s.shutRd) return 0;
  let total = 0;
  for (let i = 0; i < iovcnt; i++) {
    const v = iov[i];
    if (!checkBuf(mctx, v.iov_base, v.iov_len)) return -1;
    if (v.iov_len === 0) continue;
    const n = mctx.stack.tcp.receive(s.tcb!, v.iov_base, 0, v.iov_len, false);
    if (n < 0) return total > 0 ? total : fail(mctx, -n);
    total += n;
    if (n < v.iov_len) break;
  }
  if (total > 0) mctx.kick();
  return total;
}

/** Queue up to `len` bytes of `buf`. Returns bytes queued (maybe fewer), -1 with EAGAIN when the send buffer is full. */
export function mtcp_write(mctx: MtcpContext, sockid: number, buf: Uint8Array, len: number): number {
  const s = streamFor(mctx, sockid);
  if (!s) return -1;
  if (!checkBuf(mctx, buf, len)) return -1;
  const n = mctx.stack.tcp.send(s.tcb!, buf, 0, len);
  if (n < 0) return fail(mctx, -n);
  mctx.kick();
  return n;
}

export function mtcp_writev(mctx: MtcpContext, sockid: number, iov: IoVec[], iovcnt: number): number {
  const s = streamFor(mctx, sockid);
  if (!s) return -1;
  if (!Array.isArray(iov) || !Number.isInteger(iovcnt) || iovcnt < 0 || iovcnt > iov.length) return fail(mctx, EINVAL);
  let total = 0;
  for (let i = 0; i < iovcnt; i++) {
    const v = iov[i];
    if (!checkBuf(mctx, v.iov_base, v.iov_len)) return -1;
    if (v.iov_len === 0) continue;
    const n = mctx.stack.tcp.send(s.tcb!, v.iov_base, 0, v.iov_len);
    if (n < 0) return total > 0 ? total : fail(mctx, -n);
    total += n;
    if (n < v.iov_len) break;
  }
  mctx.kick();
  return total;
}

// ---- options ---------------------------------------------------------------

export function mtcp_getsockopt(mctx: MtcpContext, sockid: number, level: number, optname: number, optval: IntRef): number {
  const s = getSocket(mctx, sockid);
  if (!s) return -1;
  if (!optval || typeof optval !== 'object') return fail(mctx, EINVAL);
  const cfg = mctx.stack.tcp.config;
  if (level === C.SOL_SOCKET) {
    switch (optname) {
      case C.SO_ERROR: {
        const t = s.tcb;
        optval.value = t && t.failed ? t.error : 0;
        if (t && t.failed) t.error = 0; // reading SO_ERROR clears it
        return 0;
      }
      case C.SO_REUSEADDR:
        optval.value = s.reuseAddr ? 1 : 0;
        return 0;
      case C.SO_RCVBUF:
        optval.value = s.rcvbuf || cfg.rcvbuf;
        return 0;
      case C.SO_SNDBUF:
        optval.value = s.sndbuf || cfg.sndbuf;
        return 0;
      case C.SO_TYPE:
        optval.value = C.SOCK_STREAM;
        return 0;
      case C.SO_KEEPALIVE:
        optval.value = s.keepAlive ? 1 : 0;
        return 0;
      default:
        return fail(mctx, ENOPROTOOPT);
    }
  }
  if (level === C.IPPROTO_TCP) {
    switch (optname) {
      case C.TCP_NODELAY:
        optval.value = s.noDelay ? 1 : 0;
        return 0;
      case C.TCP_KEEPIDLE:
        optval.value = s.keepIdleSec;
        return 0;
      case C.TCP_KEEPINTVL:
        optval.value = s.keepIntvlSec;
        return 0;
      case C.TCP_KEEPCNT:
        optval.value = s.keepCnt;
        return 0;
      default:
        break;
    }
  }
  return fail(mctx, ENOPROTOOPT);
}

/**
 * Supported: SO_REUSEADDR, TCP_NODELAY, SO_KEEPALIVE with TCP_KEEPIDLE,
 * TCP_KEEPINTVL and TCP_KEEPCNT, and SO_RCVBUF/SO_SNDBUF equal to the
 * configured buffer size (buffers come from fixed-size pools: another value
 * is refused with EINVAL, never silently ignored). Anything else: ENOPROTOOPT.
 */
export function mtcp_setsockopt(mctx: MtcpContext, sockid: number, level: number, optname: number, optval: number): number {
  const s = getSocket(mctx, sockid);
  if (!s) return -1;
  if (!Number.isInteger(optval)) return fail(mctx, EINVAL);
  const cfg = mctx.stack.tcp.config;
  if (level === C.SOL_SOCKET) {
    switch (optname) {
      case C.SO_REUSEADDR:
        s.reuseAddr = optval !== 0;
        return 0;
      case C.SO_RCVBUF:
        if (optval !== cfg.rcvbuf) return fail(mctx, EINVAL);
        s.rcvbuf = optval;
        return 0;
      case C.SO_SNDBUF:
        if (optval !== cfg.sndbuf) return fail(mctx, EINVAL);
        s.sndbuf = optval;
        return 0;
      case C.SO_KEEPALIVE:
        s.keepAlive = optval !== 0;
        applyKeepAlive(mctx, s);
        return 0;
      default:
        return fail(mctx, ENOPROTOOPT);
    }
  }
  if (level === C.IPPROTO_TCP) {
    switch (optname) {
      case C.TCP_NODELAY:
        s.noDelay = optval !== 0;
        if (s.tcb) s.tcb.noDelay = s.noDelay;
        return 0;
      case C.TCP_KEEPIDLE:
      case C.TCP_KEEPINTVL:
      case C.TCP_KEEPCNT:
        // Linux's ranges: 1..32767 seconds, 1..127 probes.
        if (optval < 1 || optval > (optname === C.TCP_KEEPCNT ? 127 : 32767)) return fail(mctx, EINVAL);
        if (optname === C.TCP_KEEPIDLE) s.keepIdleSec = optval;
        else if (optname === C.TCP_KEEPINTVL) s.keepIntvlSec = optval;
        else s.keepCnt = optval;
        applyKeepAlive(mctx, s);
        return 0;
      default:
        break;
    }
  }
  return fail(mctx, ENOPROTOOPT);
}

export function mtcp_setsock_nonblock(mctx: MtcpContext, sockid: number): number {
  const s = getSocket(mctx, sockid);
  if (!s) return -1;
  s.nonblock = true;
  return 0;
}

/** FIONREAD: bytes readable; SIOCOUTQ: bytes not yet acknowledged; FIONBIO: set (value != 0) or clear non-blocking. */
export function mtcp_socket_ioctl(mctx: MtcpContext, sockid: number, request: number, argp: IntRef): number {
  const s = getSocket(mctx, sockid);
  if (!s) return -1;
  if (!argp || typeof argp !== 'object') return fail(mctx, EINVAL);
  switch (request) {
    case C.FIONREAD:
      if (s.kind !== SocketKind.Stream) return fail(mctx, EINVAL);
      argp.value = s.tcb ? s.tcb.rcvBuf.readable : 0;
      return 0;
    case C.SIOCOUTQ:
      if (s.kind !== SocketKind.Stream) return fail(mctx, EINVAL);
      argp.value = s.tcb ? s.tcb.sndBuf.length : 0;
      return 0;
    case C.FIONBIO:
      s.nonblock = argp.value !== 0;
      return 0;
    default:
      return fail(mctx, EINVAL);
  }
}

export function mtcp_getsockname(mctx: MtcpContext, sockid: number, addr: SockAddrIn): number {
  const s = getSocket(mctx, sockid);
  if (!s) return -1;
  if (!addr || typeof addr !== 'object') return fail(mctx, EINVAL);
  addr.sin_family = C.AF_INET;
  addr.sin_addr = (s.tcb ? s.tcb.localIp : s.boundIp) >>> 0;
  addr.sin_port = s.tcb ? s.tcb.localPort : s.boundPort;
  return 0;
}

export function mtcp_getpeername(mctx: MtcpContext, sockid: number, addr: SockAddrIn): number {
  const s = getSocket(mctx, sockid);
  if (!s) return -1;
  if (!addr || typeof addr !== 'object') return fail(mctx, EINVAL);
  const t = s.tcb;
  if (!t || t.state === State.SynSent || t.state === State.Closed && !t.failed) return fail(mctx, ENOTCONN);
  addr.sin_family = C.AF_INET;
  addr.sin_addr = t.remoteIp >>> 0;
  addr.sin_port = t.remotePort;
  return 0;
}

// ---- epoll ------------------------------------------------------------------

/** Create an epoll instance; returns its socket id. `size` is a hint, as in Linux (must be > 0). */
export function mtcp_epoll_create(mctx: MtcpContext, size: number): number {
  if (!checkCtx(mctx)) return fail(null, EBADF);
  if (!Number.isInteger(size) || size <= 0) return fail(mctx, EINVAL);
  const s = mctx.sockets.allocate(SocketKind.Epoll);
  if (!s) return fail(mctx, EMFILE);
  s.epoll = new Epoll(mctx, mctx.sockets.capacity);
  return s.id;
}

export function mtcp_epoll_ctl(mctx: MtcpContext, epid: number, op: number, sockid: number, event: MtcpEpollEvent | null): number {
  const e = getSocket(mctx, epid, SocketKind.Epoll);
  if (!e) return -1;
  const s = getSocket(mctx, sockid);
  if (!s) return -1;
  if (s.kind === SocketKind.Epoll) return fail(mctx, EINVAL);
  if (op === MTCP_EPOLL_CTL_ADD && s.epollId >= 0 && s.epollId !== epid) return fail(mctx, EEXIST);
  if ((op === MTCP_EPOLL_CTL_MOD || op === MTCP_EPOLL_CTL_DEL) && s.epollId !== epid) return fail(mctx, ENOENT);
  const r = e.epoll!.ctl(op, sockid, event);
  if (r !== 0) return fail(mctx, r);
  if (op === MTCP_EPOLL_CTL_ADD) s.epollId = epid;
  else if (op === MTCP_EPOLL_CTL_DEL) s.epollId = -1;
  return 0;
}

/**
 * Wait up to `timeoutMs` (-1: forever, 0: just poll) for events. Resolves to
 * the number of entries of `events` filled, 0 on timeout, -1 on error.
 */
export async function mtcp_epoll_wait(
  mctx: MtcpContext, epid: number, events: MtcpEpollEvent[], maxevents: number, timeoutMs: number,
): Promise<number> {
  const e = getSocket(mctx, epid, SocketKind.Epoll);
  if (!e) return -1;
  if (!Array.isArray(events) || !Number.isInteger(maxevents) || maxevents <= 0 || maxevents > events.length) {
    return fail(mctx, EINVAL);
  }
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) return fail(mctx, EINVAL);
  return mctx.wait(e.epoll!, events, maxevents, timeoutMs);
}
