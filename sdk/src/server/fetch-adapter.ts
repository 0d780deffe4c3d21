import type { IncomingMessage, OutgoingHttpHeaders, RequestListener, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { FetchHandler } from "../types.js";
import { answerHandlerFailure } from "./handler-failure.js";
import { TOKEN_HEADER } from "./internal-endpoint.js";

// Loaded only for fetch-handler apps: Request/Response (undici) cost ~20 ms to load, which a
// Node-listener app never pays.

/** Serves a fetch handler as a Node request listener. */
export function fetchListener(handler: FetchHandler): RequestListener {
  return (req, res) => {
    void serve(handler, req, res);
  };
}

async function serve(handler: FetchHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const abort = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  let response: Response;
  try {
    response = await handler(toRequest(req, abort.signal));
    if (!(response instanceof Response)) throw new TypeError("the fetch handler did not return a Response");
  } catch (err) {
    answerHandlerFailure(res, "the fetch handler failed", err);
    return;
  }
  await writeResponse(req, res, response);
}

function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const proto =
    String(req.headers["x-forwarded-proto"] ?? "")
      .split(",", 1)[0]
      ?.trim() === "https";
  const target = req.url ?? "/";
  const url = target.startsWith("/")
    ? `${proto ? "https" : "http"}://${req.headers.host ?? "localhost"}${target}`
    : target;
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.toLowerCase() !== TOKEN_HEADER) headers.append(name, raw[i + 1] as string);
  }
  const method = req.method ?? "GET";
  if (method === "GET" || method === "HEAD") return new Request(url, { method, headers, signal });
  return new Request(url, {
    method,
    headers,
    signal,
    body: Readable.toWeb(req) as ReadableStream<Uint8Array>,
    duplex: "half",
  });
}

async function writeResponse(req: IncomingMessage, res: ServerResponse, response: Response): Promise<void> {
  const headers: OutgoingHttpHeaders = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  res.writeHead(response.status, response.statusText, headers);
  if (response.body === null || req.method === "HEAD") {
    await response.body?.cancel().catch(() => undefined);
    res.end();
    return;
  }
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await drained(res);
      if (res.destroyed) {
        await reader.cancel().catch(() => undefined);
        return;
      }
    }
    res.end();
  } catch (err) {
    console.error("tako.sh: the response body failed:", err);
    res.destroy();
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.once("drain", done);
    res.once("close", done);
  });
}
