import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { PublicFile } from "./public-files.js";

export type EdgeRequest = IncomingMessage | Http2ServerRequest;
export type EdgeResponse = ServerResponse | Http2ServerResponse;

const CHUNK_BYTES = 64 * 1024;

/** Whether an If-None-Match header (a list; weak validators compare equal) names `etag`. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === "*") return true;
  for (const part of ifNoneMatch.split(",")) {
    const tag = part.trim();
    if ((tag.startsWith("W/") ? tag.slice(2) : tag) === etag) return true;
  }
  return false;
}

/**
 * Answers a GET or HEAD with a file of public/: 304 when the client's ETag matches, else 200
 * with the body streamed in 64 KiB chunks. Resolves false (nothing written) when the file is
 * gone, so the caller can hand the request to the app instead.
 */
export async function sendPublicFile(
  req: EdgeRequest,
  res: EdgeResponse,
  file: PublicFile,
): Promise<boolean> {
  const notModified = etagMatches(req.headers["if-none-match"] as string | undefined, file.etag);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  if (!notModified && req.method !== "HEAD") {
    try {
      handle = await open(file.absPath, "r");
    } catch {
      return false;
    }
  }
  res.setHeader("etag", file.etag);
  res.setHeader("cache-control", "public, max-age=3600");
  if (notModified) {
    res.statusCode = 304;
    res.end();
    return true;
  }
  res.setHeader("content-type", file.contentType);
  if (!handle) {
    res.setHeader("content-length", file.size);
    res.statusCode = 200;
    res.end();
    return true;
  }
  const { size } = await handle.stat();
  res.setHeader("content-length", size);
  res.statusCode = 200;
  const stream = createReadStream("", { fd: handle, highWaterMark: CHUNK_BYTES, end: size - 1 });
  stream.on("error", () => (res as ServerResponse).destroy());
  res.on("close", () => stream.destroy());
  if (size === 0) {
    stream.destroy();
    res.end();
  } else stream.pipe(res as ServerResponse);
  return true;
}
