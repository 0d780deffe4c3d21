import { createHmac, timingSafeEqual } from "node:crypto";
import {
  type DecodedMessage,
  DnsWireError,
  encodeName,
  encodeRecord,
  RR_CLASS,
  RR_TYPE,
  uint,
} from "./dns-wire.js";

// Transaction signatures (RFC 8945): an HMAC over the message and a few TSIG fields, appended as
// the last additional record. The server signs its answer over our MAC plus its message, so a
// forged or altered response is detected too.

const ALGORITHMS = {
  "hmac-md5": { wireName: "hmac-md5.sig-alg.reg.int", hash: "md5" },
  "hmac-sha1": { wireName: "hmac-sha1", hash: "sha1" },
  "hmac-sha224": { wireName: "hmac-sha224", hash: "sha224" },
  "hmac-sha256": { wireName: "hmac-sha256", hash: "sha256" },
  "hmac-sha384": { wireName: "hmac-sha384", hash: "sha384" },
  "hmac-sha512": { wireName: "hmac-sha512", hash: "sha512" },
} as const;

export type TsigAlgorithm = keyof typeof ALGORITHMS;
export const TSIG_ALGORITHMS = Object.keys(ALGORITHMS) as TsigAlgorithm[];

export function isTsigAlgorithm(value: string): value is TsigAlgorithm {
  return Object.hasOwn(ALGORITHMS, value);
}

export interface TsigKey {
  /** Key name as configured on the server, e.g. "tako-acme". */
  readonly name: string;
  readonly algorithm: TsigAlgorithm;
  readonly secret: Buffer;
}

/** Seconds of clock difference the server accepts (the usual value). */
const FUDGE_S = 300;

interface TsigFields {
  readonly algorithm: string;
  readonly timeSigned: number;
  readonly fudge: number;
  readonly mac: Buffer;
  readonly originalId: number;
  readonly error: number;
  readonly other: Buffer;
}

const u16 = (n: number) => uint(n, 2);
const u48 = (n: number) => uint(n, 6);

/** The "TSIG variables" of RFC 8945 §4.3.3 that go into the digest after the message. */
function variables(key: TsigKey, f: Omit<TsigFields, "mac" | "originalId">): Buffer {
  return Buffer.concat([
    encodeName(key.name, true),
    u16(RR_CLASS.ANY),
    Buffer.alloc(4), // TTL 0
    encodeName(f.algorithm, true),
    u48(f.timeSigned),
    u16(f.fudge),
    u16(f.error),
    u16(f.other.length),
    f.other,
  ]);
}

function hmac(key: TsigKey, ...parts: Buffer[]): Buffer {
  const h = createHmac(ALGORITHMS[key.algorithm].hash, key.secret);
  for (const part of parts) h.update(part);
  return h.digest();
}

/**
 * Signs an encoded message: returns it with the TSIG record appended (ARCOUNT incremented) and
 * the MAC, which the response's signature covers.
 */
export function signMessage(message: Buffer, key: TsigKey, nowMs: number): { signed: Buffer; mac: Buffer } {
  const fields = {
    algorithm: ALGORITHMS[key.algorithm].wireName,
    timeSigned: Math.floor(nowMs / 1000),
    fudge: FUDGE_S,
    error: 0,
    other: Buffer.alloc(0),
  };
  const mac = hmac(key, message, variables(key, fields));
  const rdata = Buffer.concat([
    encodeName(fields.algorithm, true),
    u48(fields.timeSigned),
    u16(fields.fudge),
    u16(mac.length),
    mac,
    message.subarray(0, 2), // original ID
    u16(0),
    u16(0),
  ]);
  const record = encodeRecord({ name: key.name, type: RR_TYPE.TSIG, class: RR_CLASS.ANY, ttl: 0, rdata });
  const signed = Buffer.concat([message, record]);
  signed.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { signed, mac };
}

function parseTsigRdata(rdata: Uint8Array): TsigFields {
  const buf = Buffer.from(rdata);
  let pos = 0;
  const labels: string[] = [];
  for (;;) {
    const len = buf[pos];
    if (len === undefined) throw new DnsWireError("truncated TSIG algorithm name");
    pos += 1;
    if (len === 0) break;
    labels.push(buf.toString("ascii", pos, pos + len));
    pos += len;
  }
  if (pos + 10 > buf.length) throw new DnsWireError("truncated TSIG record");
  const timeSigned = buf.readUIntBE(pos, 6);
  const fudge = buf.readUInt16BE(pos + 6);
  const macSize = buf.readUInt16BE(pos + 8);
  pos += 10;
  if (pos + macSize + 6 > buf.length) throw new DnsWireError("truncated TSIG MAC");
  const mac = buf.subarray(pos, pos + macSize);
  pos += macSize;
  const originalId = buf.readUInt16BE(pos);
  const error = buf.readUInt16BE(pos + 2);
  const otherLen = buf.readUInt16BE(pos + 4);
  const other = buf.subarray(pos + 6, pos + 6 + otherLen);
  return { algorithm: labels.join("."), timeSigned, fudge, mac, originalId, error, other };
}

export type TsigVerdict =
  | { readonly ok: true }
  /** The server refused our signature: its TSIG error (BADSIG, BADKEY, BADTIME). */
  | { readonly ok: false; readonly serverError: number }
  /** The response is unsigned or its signature does not verify. */
  | { readonly ok: false; readonly problem: string };

/** Verifies a response to a request whose MAC was `requestMac` (RFC 8945 §5.3). */
export function verifyResponse(
  raw: Buffer,
  decoded: DecodedMessage,
  key: TsigKey,
  requestMac: Buffer,
  nowMs: number,
): TsigVerdict {
  const record = decoded.additionals.at(-1);
  if (!record || record.type !== RR_TYPE.TSIG) return { ok: false, problem: "the response is not signed" };
  if (record.name.toLowerCase() !== key.name.toLowerCase().replace(/\.$/, "")) {
    return { ok: false, problem: `the response is signed with another key (${record.name})` };
  }
  const fields = parseTsigRdata(record.rdata);
  if (fields.error !== 0) return { ok: false, serverError: fields.error };
  // The digest covers the message as it was before the TSIG record was added.
  const unsigned = Buffer.from(raw.subarray(0, decoded.lastAdditionalOffset));
  unsigned.writeUInt16BE(decoded.additionals.length - 1, 10);
  unsigned.writeUInt16BE(fields.originalId, 0);
  const expected = hmac(key, u16(requestMac.length), requestMac, unsigned, variables(key, fields));
  if (fields.mac.length !== expected.length || !timingSafeEqual(fields.mac, expected)) {
    return { ok: false, problem: "the response's signature does not verify" };
  }
  if (Math.abs(Math.floor(nowMs / 1000) - fields.timeSigned) > fields.fudge) {
    return { ok: false, problem: "the response's signature time is outside the allowed clock skew" };
  }
  return { ok: true };
}
