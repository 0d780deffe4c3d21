/** What an answer needs of a response: Node's (HTTP/1.1, HTTP/2) or the HTTP/1.1 front's. */
export interface PlainResponse {
  readonly headersSent: boolean;
  statusCode: number;
  setHeader(name: string, value: string | number): unknown;
  end(body: string): unknown;
  destroy(): unknown;
}

/**
 * Answers with a short text/plain body. Error bodies are generic (they never reveal upstream
 * details) and are not cached.
 */
export function sendPlain(
  res: PlainResponse,
  status: number,
  body: string,
  headers?: Readonly<Record<string, string>>,
): void {
  if (res.headersSent) {
    // Too late for a status: the response already started, so the only signal left is to cut it.
    res.destroy();
    return;
  }
  res.statusCode = status;
  res.setHeader("content-type", "text/plain; charset=utf-8");
  res.setHeader("content-length", Buffer.byteLength(body));
  if (status >= 400) res.setHeader("cache-control", "private, no-store");
  if (headers) {
    for (const [k, v] of Object.entries(headers)) {
      // HTTP/2 forbids connection-specific headers (Node throws); closing is HTTP/1.1's business.
      if (k === "connection" && "stream" in res) continue;
      res.setHeader(k, v);
    }
  }
  res.end(body);
}
