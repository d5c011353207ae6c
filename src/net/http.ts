/**
 * node:http over mtcp-ts: an http.Agent whose connections are mtcp-ts
 * sockets, for clients; servers need nothing more than handing each accepted
 * Socket to an http.Server (`server.emit('connection', socket)`).
 */
import { Agent, type AgentOptions } from 'node:http';
import type { Duplex } from 'node:stream';
import type { MtcpContext } from '../mtcp/context.ts';
import { Socket } from './socket.ts';

export interface MtcpAgentOptions extends AgentOptions {
  /** The context the connections live on; default: the first context of this thread's mtcp_init. */
  mctx?: MtcpContext;
}

/** An http.Agent (keep-alive and pooling as node:http's) that opens mtcp-ts connections. */
export class MtcpAgent extends Agent {
  readonly #mctx: MtcpContext | undefined;

  constructor(options: MtcpAgentOptions = {}) {
    const { mctx, ...rest } = options;
    super(rest);
    this.#mctx = mctx;
  }

  /** Returning the socket is enough: the Agent takes it as created (as with net.createConnection). */
  override createConnection(options: { host?: string; port?: number | string; localAddress?: string }): Duplex {
    return new Socket({ mctx: this.#mctx }).connect({
      port: Number(options.port ?? 80), host: options.host ?? undefined, localAddress: options.localAddress,
    });
  }
}
