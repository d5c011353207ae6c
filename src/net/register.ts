/**
 * Route an unmodified Node program's TCP through one context: node:net's
 * Server.listen, connect and createConnection, node:http's Agent and
 * node:tls's connect are wrapped so that what the config's port owns goes to
 * mtcp-ts/net, and everything else to the kernel as before:
 *
 * - a listen without a host, on 0.0.0.0 or on the port's address listens on the stack (the node:net
 *   Server, and so an http, https or tls Server, gets mtcp-ts Sockets as its 'connection's);
 * - a connect to an IPv4 address the config routes (the port's subnet, route.conf) goes over the stack;
 * - IPv6, host names, loopback, UNIX sockets, handles and file descriptors stay on the kernel, and so
 *   does `new net.Socket().connect()` (the socket already is a kernel one).
 *
 * src/register.ts (the package's `mtcp-ts/register`) calls routeNodeSockets once per thread.
 */
import http from 'node:http';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import tls from 'node:tls';
import { parseIpv4 } from '../config/addr.ts';
import type { MtcpConfig } from '../config/mtcp-conf.ts';
import { RouteTable } from '../config/route-conf.ts';
import type { MtcpContext } from '../mtcp/context.ts';
import { NetLoop } from './loop.ts';
import { Server } from './server.ts';
import { Socket, type ConnectOptions } from './socket.ts';

type Callback = (...args: unknown[]) => void;

/** What a listen call asks for, when it asks for a TCP port (not a path, handle or descriptor). */
interface ListenRequest {
  port: number | undefined;
  host: string | undefined;
  backlog: number | undefined;
  callback: Callback | undefined;
}

/** The loopback network, 127.0.0.0/8: "this host" (RFC 1122 §3.2.1.3), never on the port's wire. */
const LOOPBACK_NET = 0x7f000000;
const LOOPBACK_MASK = 0xff000000;

/** The mtcp-ts Server behind each node:net Server that listens on the stack. */
const onStack = new WeakMap<net.Server, Server>();
let routedBy: MtcpContext | null = null;

/**
 * From now on, node:net, node:http and node:tls in this thread use `mctx` for what `config`'s port owns.
 * The context then holds the thread alive only while it has open sockets or servers (keepsAlive).
 */
export function routeNodeSockets(mctx: MtcpContext, config: MtcpConfig): void {
  if (routedBy) throw new Error('mtcp-ts/register: node:net is already routed through a context in this thread');
  routedBy = mctx;
  const port = config.ports[0];
  const routes = new RouteTable(config.routes, config.ports);
  const ownsListen = (host: string | undefined): boolean =>
    host === undefined || host === '' || host === '0.0.0.0' || parseIpv4(host) === port.addr;
  const ownsDestination = (host: unknown): boolean => {
    if (typeof host !== 'string') return false;
    const ip = parseIpv4(host);
    return ip >= 0 && ((ip & LOOPBACK_MASK) >>> 0) !== LOOPBACK_NET && routes.lookup(ip) >= 0;
  };
  const loop = NetLoop.of(mctx);
  mctx.keepsAlive = () => loop.watching > 0;

  const kernelListen = net.Server.prototype.listen;
  const kernelClose = net.Server.prototype.close;
  const kernelAddress = net.Server.prototype.address;
  const kernelGetConnections = net.Server.prototype.getConnections;
  const kernelListening = Object.getOwnPropertyDescriptor(net.Server.prototype, 'listening')!.get!;

  net.Server.prototype.listen = function listen(this: net.Server, ...args: unknown[]): net.Server {
    const req = listenRequest(args);
    if (!req || !ownsListen(req.host) || onStack.has(this)) return Reflect.apply(kernelListen, this, args) as net.Server;
    const self = this as net.Server & { allowHalfOpen?: boolean; noDelay?: boolean; keepAlive?: boolean; keepAliveInitialDelay?: number };
    const inner = new Server({
      mctx, allowHalfOpen: self.allowHalfOpen, noDelay: self.noDelay, keepAlive: self.keepAlive, keepAliveInitialDelay: self.keepAliveInitialDelay,
    }, (socket) => this.emit('connection', socket));
    if (this.maxConnections !== undefined) inner.maxConnections = this.maxConnections;
    onStack.set(this, inner);
    if (req.callback) this.once('listening', req.callback);
    inner.on('listening', () => this.emit('listening'));
    inner.on('error', (err: Error) => {
      onStack.delete(this);
      this.emit('error', err);
    });
    inner.on('close', () => {
      onStack.delete(this);
      this.emit('close');
    });
    inner.listen({ port: req.port ?? 0, host: req.host || undefined, backlog: req.backlog });
    return this;
  };
  net.Server.prototype.close = function close(this: net.Server, callback?: (err?: Error) => void): net.Server {
    const inner = onStack.get(this);
    if (!inner?.listening) return Reflect.apply(kernelClose, this, callback ? [callback] : []) as net.Server;
    if (callback) this.once('close', callback);
    inner.close();
    return this;
  };
  net.Server.prototype.address = function address(this: net.Server) {
    const inner = onStack.get(this);
    return inner ? inner.address() : kernelAddress.call(this);
  };
  net.Server.prototype.getConnections = function getConnections(this: net.Server, cb: (error: Error | null, count: number) => void) {
    const inner = onStack.get(this);
    if (!inner) return kernelGetConnections.call(this, cb);
    inner.getConnections(cb);
    return this;
  };
  Object.defineProperty(net.Server.prototype, 'listening', {
    configurable: true,
    enumerable: true,
    get(this: net.Server) {
      const inner = onStack.get(this);
      return inner ? inner.listening : kernelListening.call(this);
    },
  });

  const kernelConnect = net.connect;
  const connect = (...args: unknown[]): net.Socket => {
    const [options, callback] = connectRequest(args);
    if (!options || isSet(options.path) || !ownsDestination(options.host)) return Reflect.apply(kernelConnect, net, args) as net.Socket;
    const socket = new Socket({ mctx, allowHalfOpen: options.allowHalfOpen as boolean | undefined });
    // Not a net.Socket, but the surface node:http, node:tls and applications use of one.
    return socket.connect(options as unknown as ConnectOptions, callback) as unknown as net.Socket;
  };
  net.connect = connect as typeof net.connect;
  net.createConnection = connect as typeof net.createConnection;
  // node:http's Agent took net.createConnection when it loaded; send it through the routed one.
  http.Agent.prototype.createConnection = function createConnection(options: object, callback?: Callback): net.Socket {
    return connect(options, ...(callback ? [callback] : []));
  } as typeof http.Agent.prototype.createConnection;

  const kernelTlsConnect = tls.connect;
  tls.connect = function connectTls(...args: unknown[]): tls.TLSSocket {
    const [options, callback] = tlsConnectRequest(args);
    if (isSet(options.socket) || isSet(options.path) || !ownsDestination(options.host)) {
      return Reflect.apply(kernelTlsConnect, tls, args) as tls.TLSSocket;
    }
    const socket = new Socket({ mctx }).connect({
      port: Number(options.port), host: options.host as string, localAddress: options.localAddress as string | undefined,
      noDelay: options.noDelay as boolean | undefined, keepAlive: options.keepAlive as boolean | undefined,
      keepAliveInitialDelay: options.keepAliveInitialDelay as number | undefined,
    });
    return kernelTlsConnect({ ...options, socket: socket as unknown as net.Socket }, callback);
  } as typeof tls.connect;

  // ESM named imports of builtins (import { connect } from 'node:net') follow the patched exports.
  syncBuiltinESMExports();
}

/** node:net's listen arguments, or null when they name a path, handle or descriptor (the kernel's). */
function listenRequest(args: unknown[]): ListenRequest | null {
  const last = args[args.length - 1];
  const callback = typeof last === 'function' ? (last as Callback) : undefined;
  const a0 = args[0];
  if (a0 !== null && typeof a0 === 'object') {
    const o = a0 as { port?: unknown; host?: unknown; backlog?: unknown; path?: unknown; fd?: unknown; _handle?: unknown; handle?: unknown; ipv6Only?: unknown };
    if (o.path !== undefined || o.fd !== undefined || o._handle !== undefined || o.handle !== undefined || o.ipv6Only) return null;
    if (o.port !== undefined && o.port !== null && portNumber(o.port) === undefined) return null;
    return {
      port: portNumber(o.port), host: typeof o.host === 'string' ? o.host : undefined,
      backlog: typeof o.backlog === 'number' ? o.backlog : undefined, callback,
    };
  }
  if (a0 !== undefined && a0 !== null && typeof a0 !== 'function' && portNumber(a0) === undefined) return null; // a UNIX socket path
  const host = typeof args[1] === 'string' ? args[1] : undefined;
  const backlog = args.slice(1).find((a) => typeof a === 'number') as number | undefined;
  return { port: typeof a0 === 'function' ? undefined : portNumber(a0), host, backlog, callback };
}

/** node:http passes `path: null` when there is no UNIX socket path. */
function isSet(v: unknown): boolean {
  return v !== undefined && v !== null;
}

function portNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

/** node:net's connect arguments: (options[, cb]), (port[, host][, cb]) or (path[, cb]). */
function connectRequest(args: unknown[]): [Record<string, unknown> | null, (() => void) | undefined] {
  const last = args[args.length - 1];
  const callback = typeof last === 'function' ? (last as () => void) : undefined;
  const a0 = args[0];
  if (a0 !== null && typeof a0 === 'object') return [{ ...(a0 as Record<string, unknown>) }, callback];
  const port = portNumber(a0);
  if (port === undefined) return [null, callback];
  return [{ port, host: typeof args[1] === 'string' ? args[1] : 'localhost' }, callback];
}

/** node:tls's connect arguments: (options[, cb]), (port[, host][, options][, cb]). */
function tlsConnectRequest(args: unknown[]): [Record<string, unknown>, (() => void) | undefined] {
  const last = args[args.length - 1];
  const callback = typeof last === 'function' ? (last as () => void) : undefined;
  const rest = callback ? args.slice(0, -1) : args;
  const options: Record<string, unknown> = {};
  for (const a of rest) {
    if (a !== null && typeof a === 'object') Object.assign(options, a);
  }
  if (portNumber(rest[0]) !== undefined) options.port = portNumber(rest[0]);
  if (typeof rest[1] === 'string') options.host = rest[1];
  return [options, callback];
}
