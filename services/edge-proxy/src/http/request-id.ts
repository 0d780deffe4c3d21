import { randomFillSync } from "node:crypto";

const ID_BYTES = 12; // 16 characters of base64url, 96 bits of randomness
// Random bytes are drawn 4 KiB at a time: one syscall per 341 ids, not one per request.
const pool = Buffer.alloc(4096);
let offset = pool.length;

/** A fresh 16-character id (base64url, 96 bits of randomness). */
export function newRequestId(): string {
  if (offset + ID_BYTES > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString("base64url", offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}

/**
 * The request id to use: the client's X-Request-ID when it is 1-128 printable ASCII characters
 * after trimming (so a chain of proxies keeps one id), else a fresh one.
 */
export function requestIdFor(incoming: string | string[] | undefined): string {
  if (typeof incoming === "string") {
    const id = incoming.trim();
    if (id.length >= 1 && id.length <= 128 && isPrintableAscii(id)) return id;
  }
  return newRequestId();
}

function isPrintableAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}
