/**
 * node:https clients over mtcp-ts: an https.Agent whose connections are
 * node:tls sockets wrapped around mtcp-ts Sockets (tls.connect({ socket })).
 * Everything TLS does over node:net it does here: certificate checks with
 * Node's errors, ALPN, SNI, and session resumption (the Agent caches each
 * host's session and offers it on the next connection). Servers need
 * nothing more than handing each accepted Socket to an https.Server or
 * tls.Server (`server.emit('connection', socket)`).
 */
import { Agent, type AgentOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import type { MtcpContext } from '../mtcp/context.ts';
import { Socket } from './socket.ts';

export interface MtcpHttpsAgentOptions extends AgentOptions {
  /** The context the connections live on; default: the first context of this thread's mtcp_init. */
  mctx?: MtcpContext;
}

/** node:https's Agent.createConnection, which @types/node does not declare: TLS with the session cache. */
type HttpsCreateConnection = (this: Agent, options: object, callback?: (err: Error | null, socket: Duplex) => void) => Duplex;

/** What node:http's Agent passes to createConnection that the connection itself uses. */
interface ConnectionOptions {
  host?: string;
  port?: number | string;
  localAddress?: string;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
}

/** An https.Agent (keep-alive, pooling and TLS session reuse as node:https's) that opens mtcp-ts connections. */
export class MtcpHttpsAgent extends Agent {
  readonly #mctx: MtcpContext | undefined;

  constructor(options: MtcpHttpsAgentOptions = {}) {
    const { mctx, ...rest } = options;
    super(rest);
    this.#mctx = mctx;
  }

  override createConnection(options: ConnectionOptions, callback?: (err: Error | null, socket: Duplex) => void): Duplex {
    // node:http's Agent asks for noDelay (its default) and keep-alive here; TLS records go out as written.
    const socket = new Socket({ mctx: this.#mctx }).connect({
      port: Number(options.port ?? 443), host: options.host ?? undefined, localAddress: options.localAddress,
      noDelay: options.noDelay, keepAlive: options.keepAlive, keepAliveInitialDelay: options.keepAliveInitialDelay,
    });
    const tlsOverMtcp = (Agent.prototype as unknown as { createConnection: HttpsCreateConnection }).createConnection;
    return tlsOverMtcp.call(this, { ...options, socket }, callback);
  }
}
