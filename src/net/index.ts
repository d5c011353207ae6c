/**
 * mtcp-ts/net: node:net's Socket and Server over mtcp-ts, so code written
 * for node:net (and node:http on top of it) runs on the userspace stack.
 * Call mtcp_init() and mtcp_create_context(core) first, or pass { mctx }.
 */
import { Server, type ServerOptions } from './server.ts';
import { Socket, type ConnectOptions, type SocketOptions } from './socket.ts';

export { Server, type ListenOptions, type ServerOptions } from './server.ts';
export { Socket, type ConnectOptions, type SocketOptions } from './socket.ts';
export { type NetError } from './errors.ts';

export function createServer(options?: ServerOptions | ((socket: Socket) => void), connectionListener?: (socket: Socket) => void): Server {
  return new Server(options, connectionListener);
}

/** Open a connection: `connect({ port, host, mctx })`, or `connect(port, host)`. */
export function connect(options: ConnectOptions & SocketOptions, connectListener?: () => void): Socket;
export function connect(port: number, host: string, connectListener?: () => void): Socket;
export function connect(...args: unknown[]): Socket {
  const a0 = args[0];
  const cb = typeof args[args.length - 1] === 'function' ? (args[args.length - 1] as () => void) : undefined;
  if (a0 !== null && typeof a0 === 'object') {
    const o = a0 as ConnectOptions & SocketOptions;
    return new Socket({ mctx: o.mctx, allowHalfOpen: o.allowHalfOpen }).connect(o, cb);
  }
  return new Socket().connect({ port: a0 as number, host: args[1] as string }, cb);
}

export const createConnection = connect;

/** 4 for a dotted IPv4 address, else 0 (the stack speaks IPv4 only). */
export function isIP(input: string): number {
  return isIPv4(input) ? 4 : 0;
}

export function isIPv4(input: string): boolean {
  return /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(input);
}

export function isIPv6(_input: string): boolean {
  return false;
}
export { MtcpAgent, type MtcpAgentOptions } from './http.ts';
export { MtcpHttpsAgent, type MtcpHttpsAgentOptions } from './tls.ts';
