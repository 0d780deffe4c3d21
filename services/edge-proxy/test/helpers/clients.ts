import { execFile } from "node:child_process";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as https from "node:https";

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The headers as received: names in their case, repeated ones repeated. */
  readonly rawHeaders: string[];
  readonly body: string;
}

export interface RequestOptions {
  readonly host: string;
  readonly path?: string;
  readonly method?: string;
  readonly headers?: http.OutgoingHttpHeaders;
  /** An array is written part by part, without a Content-Length (chunked over HTTP/1.1). */
  readonly body?: string | Buffer | readonly string[];
  readonly ca?: string;
  readonly agent?: https.Agent | false;
}

/**
 * An HTTPS request to the edge on 127.0.0.1 for `host` (SNI and Host header), like
 * `curl --resolve host:port:127.0.0.1`.
 */
export function httpsRequest(port: number, options: RequestOptions): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        port,
        servername: options.host,
        path: options.path ?? "/",
        method: options.method ?? "GET",
        headers: { host: options.host, ...options.headers },
        ...(options.ca ? { ca: options.ca } : { rejectUnauthorized: false }),
        agent: options.agent ?? false,
      },
      (res) => collect(res, resolve, reject),
    );
    req.on("error", reject);
    send(req, options.body);
  });
}

/** A plain HTTP request on 127.0.0.1; `host` is the Host header (omitted: Node's own). */
export function httpRequest(
  port: number,
  options: Omit<RequestOptions, "host"> & { host?: string },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path: options.path ?? "/",
        method: options.method ?? "GET",
        headers: options.host === undefined ? options.headers : { host: options.host, ...options.headers },
        agent: false,
      },
      (res) => collect(res, resolve, reject),
    );
    req.on("error", reject);
    send(req, options.body);
  });
}

function send(req: http.ClientRequest, body: RequestOptions["body"]): void {
  if (typeof body === "object" && !Buffer.isBuffer(body)) {
    for (const part of body) req.write(part);
    req.end();
  } else req.end(body);
}

function collect(res: http.IncomingMessage, resolve: (r: Reply) => void, reject: (e: Error) => void): void {
  const chunks: Buffer[] = [];
  res.on("data", (c: Buffer) => chunks.push(c));
  res.on("end", () =>
    resolve({
      status: res.statusCode ?? 0,
      headers: res.headers,
      rawHeaders: res.rawHeaders,
      body: Buffer.concat(chunks).toString(),
    }),
  );
  res.on("error", reject);
}

/** One HTTP/2 request over a fresh session. */
export function h2Request(
  port: number,
  host: string,
  path: string,
  ca: string,
  options: { method?: string; headers?: http2.OutgoingHttpHeaders; body?: string } = {},
): Promise<Omit<Reply, "rawHeaders"> & { alpn: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { ca, servername: host });
    session.on("error", reject);
    const req = session.request({
      ":path": path,
      ":authority": host,
      ":method": options.method ?? "GET",
      ...options.headers,
    });
    let headers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on("response", (h) => {
      headers = h;
    });
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const alpn = (session.socket as import("node:tls").TLSSocket).alpnProtocol || "";
      session.close();
      resolve({
        status: Number(headers[":status"]),
        headers: headers as http.IncomingHttpHeaders,
        body: Buffer.concat(chunks).toString(),
        alpn,
      });
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

export interface CurlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real curl; never throws on a non-zero exit. */
export function curl(args: readonly string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile("curl", ["-sS", ...args], { timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The edge's Prometheus exposition from 127.0.0.1:port/metrics. */
export function getMetrics(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: "/metrics", agent: false }, (res) => {
        let body = "";
        res.on("data", (c) => {
          body += c;
        });
        res.on("end", () => resolve(body));
      })
      .on("error", reject);
  });
}
