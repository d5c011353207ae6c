/**
 * A `node:net`-style Server over an mtcp-ts listening socket: 'listening',
 * 'connection' (a Socket per accepted connection), 'error', 'close' once it
 * stopped listening and every connection it accepted has closed.
 */
import { EventEmitter } from 'node:events';
import { formatIpv4 } from '../config/addr.ts';
import { MTCP_EPOLLIN } from '../epoll/events.ts';
import { mtcp_accept, mtcp_bind, mtcp_close, mtcp_errno, mtcp_listen, mtcp_setsock_nonblock, mtcp_socket, type SockAddrIn } from '../mtcp/api.ts';
import { AF_INET, SOCK_STREAM } from '../mtcp/constants.ts';
import type { MtcpContext } from '../mtcp/context.ts';
import { EADDRINUSE, EAGAIN } from '../stack/errno.ts';
import { netError } from './errors.ts';
import { NetLoop } from './loop.ts';
import { defaultContext, parseHost, Socket, validPort } from './socket.ts';

export interface ServerOptions {
  mctx?: MtcpContext;
  /** Accepted sockets keep their writable side open after the peer's FIN (default false). */
  allowHalfOpen?: boolean;
  /** setNoDelay(true) on every accepted socket. */
  noDelay?: boolean;
  /** setKeepAlive(true, keepAliveInitialDelay) on every accepted socket. */
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
}

export interface ListenOptions {
  port?: number;
  host?: string;
  backlog?: number;
}

/** Where a listen on port 0 looks for a free port (the IANA dynamic range). */
const DYNAMIC_FIRST = 49152;
const DYNAMIC_LAST = 65535;

export class Server extends EventEmitter {
  readonly #mctx: MtcpContext;
  readonly #loop: NetLoop;
  readonly #options: ServerOptions;
  readonly #connections = new Set<Socket>();
  #sockid = -1;
  #address: { address: string; family: string; port: number } | null = null;
  #closing = false;
  readonly #peer: SockAddrIn = { sin_family: AF_INET, sin_port: 0, sin_addr: 0 };
  /** Refuse connections beyond this many (node:net's maxConnections). */
  maxConnections: number | undefined;

  constructor(options?: ServerOptions | ((socket: Socket) => void), connectionListener?: (socket: Socket) => void) {
    super();
    if (typeof options === 'function') {
      connectionListener = options;
      options = {};
    }
    this.#options = options ?? {};
    this.#mctx = this.#options.mctx ?? defaultContext();
    this.#loop = NetLoop.of(this.#mctx);
    if (connectionListener) this.on('connection', connectionListener);
  }

  get listening(): boolean {
    return this.#sockid >= 0;
  }

  listen(options: ListenOptions, listeningListener?: () => void): this;
  listen(port?: number, host?: string, backlog?: number, listeningListener?: () => void): this;
  listen(port?: number, host?: string, listeningListener?: () => void): this;
  listen(port?: number, listeningListener?: () => void): this;
  listen(...args: unknown[]): this {
    const last = args[args.length - 1];
    const cb = typeof last === 'function' ? (last as () => void) : undefined;
    const a0 = args[0];
    const o: ListenOptions = a0 !== null && typeof a0 === 'object'
      ? (a0 as ListenOptions)
      : { port: a0 as number | undefined, host: typeof args[1] === 'string' ? args[1] : undefined, backlog: typeof args[2] === 'number' ? args[2] : undefined };
    if (this.#sockid >= 0) throw new Error('mtcp-ts/net: the server is already listening');
    const port = validPort(o.port ?? 0, 'port');
    const host = o.host ?? '0.0.0.0';
    const ip = parseHost(host, 'host');
    const backlog = o.backlog ?? 511;
    if (cb) this.once('listening', cb);
    this.#closing = false;
    const r = port === 0 ? this.#listenDynamic(ip, backlog) : this.#listenOn(ip, port, backlog);
    if (r !== 0) {
      process.nextTick(() => this.emit('error', netError(r, 'listen', host, port)));
      return this;
    }
    this.#loop.watch(this.#sockid, MTCP_EPOLLIN, () => this.#acceptAll());
    process.nextTick(() => this.emit('listening'));
    return this;
  }

  /** Listen on ip:port; returns 0 or an errno. */
  #listenOn(ip: number, port: number, backlog: number): number {
    const m = this.#mctx;
    const id = mtcp_socket(m, AF_INET, SOCK_STREAM, 0);
    if (id < 0) return mtcp_errno();
    mtcp_setsock_nonblock(m, id);
    if (mtcp_bind(m, id, { sin_family: AF_INET, sin_port: port, sin_addr: ip }) < 0 || mtcp_listen(m, id, backlog) < 0) {
      const e = mtcp_errno();
      mtcp_close(m, id);
      return e;
    }
    this.#sockid = id;
    this.#address = { address: formatIpv4(ip), family: 'IPv4', port };
    return 0;
  }

  #listenDynamic(ip: number, backlog: number): number {
    for (let port = DYNAMIC_FIRST; port <= DYNAMIC_LAST; port++) {
      const r = this.#listenOn(ip, port, backlog);
      if (r !== EADDRINUSE) return r;
    }
    return EADDRINUSE;
  }

  #acceptAll(): void {
    const m = this.#mctx;
    for (;;) {
      if (this.#sockid < 0) return;
      const id = mtcp_accept(m, this.#sockid, this.#peer);
      if (id < 0) {
        const e = mtcp_errno();
        if (e !== EAGAIN) this.emit('error', netError(e, 'accept'));
        return;
      }
      if (this.maxConnections !== undefined && this.#connections.size >= this.maxConnections) {
        mtcp_close(m, id);
        this.emit('drop', { remoteAddress: formatIpv4(this.#peer.sin_addr), remotePort: this.#peer.sin_port, remoteFamily: 'IPv4' });
        continue;
      }
      const o = this.#options;
      const s = Socket.accepted(m, id, o.allowHalfOpen ?? false);
      if (o.noDelay) s.setNoDelay(true);
      if (o.keepAlive) s.setKeepAlive(true, o.keepAliveInitialDelay ?? 0);
      this.#connections.add(s);
      s.once('close', () => {
        this.#connections.delete(s);
        this.#maybeClosed();
      });
      this.emit('connection', s);
    }
  }

  /** Stop accepting; 'close' follows once every accepted connection has closed. */
  close(callback?: (err?: Error) => void): this {
    if (this.#sockid < 0) {
      if (callback) {
        const err = Object.assign(new Error('Server is not running.'), { code: 'ERR_SERVER_NOT_RUNNING' });
        process.nextTick(() => callback(err));
      }
      return this;
    }
    if (callback) this.once('close', callback);
    this.#loop.unwatch(this.#sockid);
    mtcp_close(this.#mctx, this.#sockid);
    this.#sockid = -1;
    this.#closing = true;
    this.#maybeClosed();
    return this;
  }

  #maybeClosed(): void {
    if (!this.#closing || this.#connections.size > 0) return;
    this.#closing = false;
    process.nextTick(() => this.emit('close'));
  }

  address(): { address: string; family: string; port: number } | null {
    return this.#sockid >= 0 ? this.#address : null;
  }

  getConnections(callback: (err: Error | null, count: number) => void): this {
    const n = this.#connections.size;
    process.nextTick(() => callback(null, n));
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}
