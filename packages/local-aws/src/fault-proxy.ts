/**
 * A loopback HTTP proxy in front of an emulator: it forwards every request as it came, except
 * those a rule answers itself. Emulators never throttle or fail the way AWS does under load; put
 * this between a client and the emulator to make them.
 */

import { setMaxListeners } from "node:events";
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { buffer } from "node:stream/consumers";
import { setTimeout as delay } from "node:timers/promises";
import { Draw } from "./draw.js";

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

/** Wait `ms`, then forward: a slow network or an overloaded service. */
export interface FaultDelay {
  readonly kind: "delay";
  readonly ms: number;
}

/** Close the connection with a TCP reset, answering nothing: the target never sees the request. */
export interface FaultReset {
  readonly kind: "reset";
}

/**
 * Forward, then pass on the answer's status, headers and first `bytes` bytes of its body and close
 * the connection: the target did the work, the client never learns it. A body of `bytes` bytes or
 * fewer arrives whole.
 */
export interface FaultTruncate {
  readonly kind: "truncate";
  readonly bytes: number;
}

/** What a rule does with a request. */
export type FaultAction = FaultResponse | FaultDelay | FaultReset | FaultTruncate;

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
  /**
   * `target`: forwarded (the target did the work, maybe after a delay or with a truncated answer);
   * `rule`: answered or reset by a rule; `error`: the proxy could not do either; `outage`: dropped
   * unanswered because the proxy went down first.
   */
  readonly answeredBy: "target" | "rule" | "error" | "outage";
  /**
   * The status sent to the client (502 when the target could not be reached, 500 when a rule
   * threw); undefined when none was sent (reset, outage).
   */
  readonly status: number | undefined;
  /** The kind of the action a rule took, if one acted. */
  readonly fault: FaultAction["kind"] | undefined;
  /**
   * `whole`: the client got the entire answer; `cut`: the connection closed before its end
   * (truncate, reset, outage, or the client left); `pending`: the answer is still going out.
   */
  readonly outcome: "pending" | "whole" | "cut";
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
  /** True between `down()` and `up()`. */
  readonly isDown: boolean;
  /**
   * An outage: resets every open connection (answers under way are cut, requests not yet
   * answered are dropped) and every new one, until `up()`. It stands in for the emulator being
   * stopped and restarted, which would lose the emulator's state; the emulator behind keeps it.
   */
  down(): void;
  /** Ends the outage: new connections are served again. */
  up(): void;
  stop(): Promise<void>;
}

/**
 * A seeded coin with `rate` chances in 1 to come up true: a rule calls it on each request it
 * matches to fault that fraction of them. Same seed, same sequence of answers.
 */
export function sometimes(rate: number, seed: number): () => boolean {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`rate must be between 0 and 1, not ${rate}`);
  const draw = new Draw(seed);
  return () => draw.float() < rate;
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
  const sockets = new Set<Socket>();
  /** Connections reset by `down()`: what was waiting on them stays unanswered after `up()`. */
  const cutByOutage = new WeakSet<Socket>();
  const stopping = new AbortController();
  // Every delayed request waits on this signal: many at once is expected, not a leak.
  setMaxListeners(0, stopping.signal);
  let received = 0;
  let isDown = false;

  const server = createServer((incoming, response) => {
    // Only reading the request, or a delay cut short by stop(), can fail here: either way the
    // client is gone or going, so there is no one to answer.
    handle(incoming, response, ++received).catch((error: Error) => response.destroy(error));
  });
  server.on("connection", (socket: Socket) => {
    if (isDown) {
      socket.resetAndDestroy();
      return;
    }
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  /** Lists the exchange as its answer starts, and keeps its outcome up to date. */
  function record(
    request: ProxiedRequest,
    response: ServerResponse,
    answeredBy: ProxyExchange["answeredBy"],
    status: number | undefined,
    fault: FaultAction["kind"] | undefined,
  ): void {
    const exchange: Mutable<ProxyExchange> = { ...request, answeredBy, status, fault, outcome: "pending" };
    requests.push(exchange);
    const settle = () => {
      exchange.outcome = response.writableFinished ? "whole" : "cut";
    };
    if (response.writableFinished || response.destroyed) settle();
    else response.once("close", settle);
  }

  /**
   * Whether the request is caught in an outage and must be dropped unanswered: the proxy is down,
   * or went down while the request waited. (A client that merely left still has its request
   * forwarded: the work then happens, unknown to it.)
   */
  function dropped(
    request: ProxiedRequest,
    response: ServerResponse,
    socket: Socket,
    fault: FaultAction | undefined,
  ): boolean {
    if (!isDown && !cutByOutage.has(socket)) return false;
    record(request, response, "outage", undefined, fault?.kind);
    reset(response);
    return true;
  }

  async function handle(incoming: IncomingMessage, response: ServerResponse, sequence: number) {
    const { socket } = incoming;
    const request: ProxiedRequest = {
      sequence,
      method: incoming.method ?? "GET",
      path: incoming.url ?? "/",
      headers: incoming.headers,
      target: single(incoming.headers["x-amz-target"]),
      body: await buffer(incoming),
    };
    let action: FaultAction | undefined;
    try {
      for (const rule of rules) {
        action = await rule(request);
        if (action) break;
      }
    } catch (error) {
      record(request, response, "error", 500, undefined);
      response.writeHead(500, { "content-type": "text/plain" });
      response.end(`fault proxy: a rule failed on request ${sequence}: ${(error as Error).message}`);
      return;
    }
    // A rule may have taken the proxy down: this request is then caught in the outage too.
    if (dropped(request, response, socket, action)) return;
    switch (action?.kind) {
      case "respond":
        record(request, response, "rule", action.status, "respond");
        response.writeHead(action.status, action.headers ?? {});
        response.end(action.body ?? "");
        return;
      case "reset":
        record(request, response, "rule", undefined, "reset");
        reset(response);
        return;
      case "delay":
        await delay(action.ms, undefined, { signal: stopping.signal });
        if (dropped(request, response, socket, action)) return;
        forward(request, response, action);
        return;
      default:
        forward(request, response, action);
    }
  }

  function forward(
    request: ProxiedRequest,
    response: ServerResponse,
    action: FaultDelay | FaultTruncate | undefined,
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
        const status = upstreamResponse.statusCode ?? 502;
        record(request, response, "target", status, action?.kind);
        if (response.destroyed) {
          // The target did the work; the client, cut off by an outage, never hears of it.
          upstreamResponse.resume();
          return;
        }
        response.writeHead(status, withoutHopByHop(upstreamResponse.headers));
        upstreamResponse.once("error", (error) => response.destroy(error));
        if (action?.kind === "truncate") passOnTruncated(upstreamResponse, response, action.bytes);
        else upstreamResponse.pipe(response);
      },
    );
    upstream.once("error", (error) => {
      if (response.headersSent || response.destroyed) {
        response.destroy(error);
        return;
      }
      record(request, response, "error", 502, action?.kind);
      response.writeHead(502, { "content-type": "text/plain" });
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
    get isDown() {
      return isDown;
    },
    down() {
      isDown = true;
      for (const socket of sockets) {
        cutByOutage.add(socket);
        socket.resetAndDestroy();
      }
    },
    up() {
      isDown = false;
    },
    async stop() {
      stopping.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Resets the connection under a response, so the client sees ECONNRESET and no answer. */
function reset(response: ServerResponse): void {
  if (response.socket) response.socket.resetAndDestroy();
  else response.destroy();
}

/** Passes on the first `bytes` bytes of the body, then closes the connection before the rest. */
function passOnTruncated(upstreamResponse: IncomingMessage, response: ServerResponse, bytes: number): void {
  let sent = 0;
  let cut = false;
  // Status and headers go out even when no byte of the body does.
  response.flushHeaders();
  upstreamResponse.on("data", (chunk: Buffer) => {
    if (cut || response.destroyed) return;
    const room = bytes - sent;
    if (chunk.byteLength <= room) {
      sent += chunk.byteLength;
      response.write(chunk);
      return;
    }
    // The rest of the body may already be read: stop here, whatever comes after.
    cut = true;
    upstreamResponse.destroy();
    response.write(chunk.subarray(0, room), () => response.destroy());
  });
  upstreamResponse.once("end", () => {
    if (!cut) response.end();
  });
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

/** The wire protocol of an AWS request, as far as answering it with an error goes. */
function awsProtocol(request: ProxiedRequest): "sqs-json" | "json" | "query" | "rest-xml" {
  if (request.target) return request.target.startsWith("AmazonSQS.") ? "sqs-json" : "json";
  const contentType = single(request.headers["content-type"]) ?? "";
  return contentType.startsWith("application/x-www-form-urlencoded") ? "query" : "rest-xml";
}

/** An AWS error answer in the request's protocol. */
function awsErrorAnswer(
  request: ProxiedRequest,
  status: number,
  error: { code: string; fault: "Sender" | "Receiver"; message: string },
): FaultResponse {
  const requestId = `fault-proxy-${request.sequence}`;
  switch (awsProtocol(request)) {
    case "sqs-json":
      return {
        kind: "respond",
        status,
        headers: {
          "content-type": "application/x-amz-json-1.0",
          // SQS's JSON protocol keeps the query protocol's error codes in this header.
          "x-amzn-query-error": `${error.code};${error.fault}`,
          "x-amzn-requestid": requestId,
        },
        body: JSON.stringify({ __type: `com.amazonaws.sqs#${error.code}`, message: error.message }),
      };
    case "json":
      return {
        kind: "respond",
        status,
        headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": requestId },
        body: JSON.stringify({ __type: error.code, message: error.message }),
      };
    case "query":
      return {
        kind: "respond",
        status,
        headers: { "content-type": "text/xml" },
        body: `<ErrorResponse><Error><Type>${error.fault}</Type><Code>${error.code}</Code><Message>${error.message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
    case "rest-xml":
      return {
        kind: "respond",
        status,
        headers: { "content-type": "application/xml", "x-amz-request-id": requestId },
        body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${error.code}</Code><Message>${error.message}</Message><RequestId>${requestId}</RequestId></Error>`,
      };
  }
}

/**
 * What AWS answers when it throttles the request, in its protocol: SQS `RequestThrottled` (400),
 * other JSON services `ThrottlingException` (400), query services like SNS `Throttling` (400),
 * S3 `SlowDown` (503). The SDK's standard retry strategy classifies each as throttling.
 */
export function awsThrottlingAnswer(request: ProxiedRequest): FaultResponse {
  const message = "Rate exceeded";
  switch (awsProtocol(request)) {
    case "sqs-json":
      return awsErrorAnswer(request, 400, { code: "RequestThrottled", fault: "Sender", message });
    case "json":
      return awsErrorAnswer(request, 400, { code: "ThrottlingException", fault: "Sender", message });
    case "query":
      return awsErrorAnswer(request, 400, { code: "Throttling", fault: "Sender", message });
    case "rest-xml":
      return awsErrorAnswer(request, 503, {
        code: "SlowDown",
        fault: "Sender",
        message: "Please reduce your request rate.",
      });
  }
}

/** What AWS answers when it fails inside (HTTP 500 `InternalError`), in the request's protocol. */
export function awsInternalErrorAnswer(request: ProxiedRequest): FaultResponse {
  const code = awsProtocol(request) === "query" ? "InternalFailure" : "InternalError";
  return awsErrorAnswer(request, 500, {
    code,
    fault: "Receiver",
    message: "We encountered an internal error. Please try again.",
  });
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
