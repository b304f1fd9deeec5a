/**
 * A loopback HTTP proxy in front of an emulator: it forwards every request as it came, except
 * those a rule answers itself. Emulators never throttle or fail the way AWS does under load; put
 * this between a client and the emulator to make them.
 */
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { buffer } from "node:stream/consumers";

/** A request as the proxy received it, whole. */
export interface ProxiedRequest {
  /** 1 for the first request the proxy received, 2 for the next, ... */
  readonly sequence: number;
  readonly method: string;
  /** Path and query string, as the client sent them. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The `x-amz-target` header of the AWS JSON protocols (`AWSEvents.PutEvents`), if any. */
  readonly target: string | undefined;
  readonly body: Buffer;
}

/** An answer given in the target's place. */
export interface FaultResponse {
  readonly kind: "respond";
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
}

/**
 * What a rule does with a request. A discriminated union, so that other faults (a delay, a reset
 * connection, a truncated body) are new kinds here, not new rule shapes.
 */
export type FaultAction = FaultResponse;

/**
 * Looks at a request and returns the action to take, or undefined to leave it to the next rule
 * (and, when no rule acts, to the target). Rules are asked in order until one acts; a rule that
 * must act only on the first N requests keeps its own count.
 */
export type FaultRule = (
  request: ProxiedRequest,
) => FaultAction | undefined | Promise<FaultAction | undefined>;

/** A request and what became of it. */
export interface ProxyExchange extends ProxiedRequest {
  /** `target`: forwarded; `rule`: answered by a rule; `error`: the proxy could not do either. */
  readonly answeredBy: "target" | "rule" | "error";
  /** The status the client got (502 when the target could not be reached, 500 when a rule threw). */
  readonly status: number;
}

export interface FaultProxyOptions {
  /** The emulator's endpoint, `http://host:port`. */
  readonly target: string;
  readonly rules?: readonly FaultRule[];
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: give it to a client as its endpoint. */
  readonly endpoint: string;
  /** Every request answered so far, listed as its answer starts (`sequence` gives arrival order). */
  readonly requests: readonly ProxyExchange[];
  stop(): Promise<void>;
}

/** Headers that describe one connection, not the message: never passed on. */
const HOP_BY_HOP_HEADERS = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  if (target.protocol !== "http:") {
    throw new Error(`the fault proxy forwards to http:// endpoints only, not ${options.target}`);
  }
  const rules = options.rules ?? [];
  const agent = new Agent({ keepAlive: true });
  const requests: ProxyExchange[] = [];
  let received = 0;

  const server = createServer((incoming, response) => {
    // Only reading the request can fail here: the client went away, so there is no one to answer.
    handle(incoming, response, ++received).catch((error: Error) => response.destroy(error));
  });

  async function handle(incoming: IncomingMessage, response: ServerResponse, sequence: number) {
    const request: ProxiedRequest = {
      sequence,
      method: incoming.method ?? "GET",
      path: incoming.url ?? "/",
      headers: incoming.headers,
      target: single(incoming.headers["x-amz-target"]),
      body: await buffer(incoming),
    };
    // Recorded before the answer goes out, so a client that has its answer finds it listed.
    const answer = (answeredBy: ProxyExchange["answeredBy"], status: number) => {
      requests.push({ ...request, answeredBy, status });
      return status;
    };
    let action: FaultAction | undefined;
    try {
      for (const rule of rules) {
        action = await rule(request);
        if (action) break;
      }
    } catch (error) {
      response.writeHead(answer("error", 500), { "content-type": "text/plain" });
      response.end(`fault proxy: a rule failed on request ${sequence}: ${(error as Error).message}`);
      return;
    }
    if (action) {
      response.writeHead(answer("rule", action.status), action.headers ?? {});
      response.end(action.body ?? "");
      return;
    }
    forward(request, response, answer);
  }

  function forward(
    request: ProxiedRequest,
    response: ServerResponse,
    answer: (answeredBy: ProxyExchange["answeredBy"], status: number) => number,
  ) {
    const headers: OutgoingHttpHeaders = withoutHopByHop(request.headers);
    headers["content-length"] = request.body.byteLength;
    const upstream = httpRequest(
      {
        agent,
        hostname: target.hostname,
        port: target.port,
        method: request.method,
        path: request.path,
        // The Host header stays the client's: it is part of the request's signature.
        headers,
      },
      (upstreamResponse) => {
        const status = answer("target", upstreamResponse.statusCode ?? 502);
        response.writeHead(status, withoutHopByHop(upstreamResponse.headers));
        upstreamResponse.pipe(response);
        upstreamResponse.once("error", (error) => response.destroy(error));
      },
    );
    upstream.once("error", (error) => {
      if (response.headersSent) {
        response.destroy(error);
        return;
      }
      response.writeHead(answer("error", 502), { "content-type": "text/plain" });
      response.end(`fault proxy: ${options.target} did not answer: ${error.message}`);
    });
    upstream.end(request.body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}

/**
 * The operation a request calls: from `x-amz-target` (AWS JSON protocols, `AWSEvents.PutEvents`
 * → `PutEvents`), or from the `Action` form field (AWS query protocol: SNS, STS, ...).
 */
export function awsOperation(request: ProxiedRequest): string | undefined {
  if (request.target) return request.target.slice(request.target.lastIndexOf(".") + 1);
  const contentType = single(request.headers["content-type"]) ?? "";
  if (contentType.startsWith("application/x-www-form-urlencoded")) {
    return new URLSearchParams(request.body.toString()).get("Action") ?? undefined;
  }
  return undefined;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function withoutHopByHop(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const kept: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP_HEADERS.has(name)) kept[name] = value;
  }
  return kept;
}
