import { randomFillSync } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-";
const ID_LENGTH = 16;
// Random bytes are drawn 4 KiB at a time: one syscall per 256 ids, not one per request.
const pool = Buffer.alloc(4096);
let offset = pool.length;

/** A fresh 16-character id (64-symbol alphabet, 96 bits of randomness). */
export function newRequestId(): string {
  if (offset + ID_LENGTH > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  let id = "";
  for (let i = 0; i < ID_LENGTH; i++) id += ALPHABET[(pool[offset++] as number) & 63];
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
