/**
 * The HTTP workload: `concurrency` clients each sending GET requests back to
 * back on a keep-alive connection through node:http, against a node:http
 * server answering a fixed body. The same code runs over node:net (the
 * default http.Agent) and over mtcp-ts (MtcpAgent); only the agent differs.
 */
import http from 'node:http';
import { LatencyRecorder, type WorkloadResult } from './workload.ts';

export const HTTP_BODY = Buffer.from('hello from the http benchmark\n');

/** The https row's TLS material: the server's key and certificate, and the clients' only trusted CA. */
export interface BenchCerts {
  key: string;
  cert: string;
  /** The certificate itself, as the clients' only trusted CA. */
  ca: string;
}

/** The node:http app both servers run. */
export function httpApp(_req: http.IncomingMessage, res: http.ServerResponse): void {
  res.setHeader('content-type', 'text/plain');
  res.setHeader('content-length', HTTP_BODY.length);
  res.end(HTTP_BODY);
}

/**
 * `concurrency` clients, each sending GET requests back to back until `durationMs` has passed.
 * `agent` false: a new connection for every request (node:http reuses an Agent's sockets for queued
 * requests even without keep-alive). Written as a fast Node client is: each client's handlers are
 * bound once and its request options reused, so a request allocates only what node:http itself does.
 */
export function httpClient(agent: http.Agent | false, host: string, port: number, concurrency: number, durationMs: number): Promise<WorkloadResult> {
  return new Promise((resolve) => {
    const run = new HttpRun(agent, host, port, concurrency, durationMs, resolve);
    for (let i = 0; i < concurrency; i++) new HttpClientLoop(run).next();
  });
}

class HttpRun {
  readonly latency = new LatencyRecorder();
  readonly result: WorkloadResult = { connections: 0, requests: 0, bytes: 0, errors: 0, seconds: 0, latency: this.latency };
  readonly options: http.RequestOptions;
  readonly t0 = performance.now();
  readonly until: number;
  #running: number;

  constructor(
    agent: http.Agent | false, host: string, port: number, concurrency: number, durationMs: number,
    readonly resolve: (r: WorkloadResult) => void,
  ) {
    // An https.Agent (the https row) does TLS in its createConnection; node:http then wants its protocol named.
    this.options = { host, port, path: '/', agent, protocol: agent ? (agent as { protocol?: string }).protocol : undefined };
    this.until = this.t0 + durationMs;
    this.#running = concurrency;
  }

  /** A client saw the deadline pass. */
  clientDone(): void {
    if (--this.#running > 0) return;
    this.result.seconds = (performance.now() - this.t0) / 1000;
    this.resolve(this.result);
  }
}

/** One client: a request, its whole response, the next request. */
class HttpClientLoop {
  readonly #run: HttpRun;
  #started = 0;
  #status = 0;
  /** The request in flight has not yet ended or failed (a failure after its response ended counts nothing). */
  #pending = false;

  constructor(run: HttpRun) {
    this.#run = run;
  }

  next(): void {
    if (performance.now() >= this.#run.until) {
      this.#run.clientDone();
      return;
    }
    this.#started = performance.now();
    this.#pending = true;
    const req = http.request(this.#run.options, this.#onResponse);
    req.on('error', this.#onError);
    req.end();
  }

  readonly #onResponse = (res: http.IncomingMessage): void => {
    this.#status = res.statusCode ?? 0;
    res.on('data', this.#onData);
    res.on('end', this.#onEnd);
  };

  readonly #onData = (d: Buffer): void => {
    this.#run.result.bytes += d.length;
  };

  readonly #onEnd = (): void => {
    if (!this.#pending) return;
    this.#pending = false;
    const run = this.#run;
    if (this.#status === 200) {
      run.result.requests++;
      run.latency.record(performance.now() - this.#started);
    } else run.result.errors++;
    this.next();
  };

  readonly #onError = (): void => {
    if (!this.#pending) return;
    this.#pending = false;
    this.#run.result.errors++;
    this.next();
  };
}
