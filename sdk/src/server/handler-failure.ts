import type { ServerResponse } from "node:http";

/**
 * What a request gets when the app's handler throws: the error goes to stderr (the app's log),
 * the client gets a bare 500 (no stack, no message), or a reset if the response had started.
 */
export function answerHandlerFailure(res: ServerResponse, what: string, err: unknown): void {
  console.error(`tako.sh: ${what}:`, err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = '{"error":"Internal Server Error"}';
  res.writeHead(500, { "content-type": "application/json", "content-length": body.length });
  res.end(body);
}
