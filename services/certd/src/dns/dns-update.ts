import { randomInt } from "node:crypto";
import { connect } from "node:net";
import {
  decodeMessage,
  encodeMessage,
  encodeTxtRdata,
  OPCODE_UPDATE,
  RCODE_NAMES,
  type ResourceRecord,
  RR_CLASS,
  RR_TYPE,
  rcodeOf,
} from "./dns-wire.js";
import { signMessage, type TsigKey, verifyResponse } from "./tsig.js";

/** One change of an UPDATE: add a TXT value, or delete exactly that value. */
export type TxtUpdate =
  | { readonly op: "add"; readonly name: string; readonly value: string; readonly ttlS: number }
  | { readonly op: "delete"; readonly name: string; readonly value: string };

export interface DnsUpdateRequest {
  readonly host: string;
  readonly port: number;
  /** The zone the names belong to (the UPDATE's Zone section). */
  readonly zone: string;
  readonly key: TsigKey;
  /** Empty: a signed no-op, which tells whether the server accepts the key for the zone. */
  readonly updates: readonly TxtUpdate[];
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
}

/** The server refused the update (`rcode`), or the exchange itself failed (`rcode` undefined). */
export class DnsUpdateError extends Error {
  override readonly name = "DnsUpdateError";
  constructor(
    message: string,
    readonly rcode?: string,
  ) {
    super(message);
  }
}

const MAX_RESPONSE_BYTES = 65_535;

function toRecord(update: TxtUpdate): ResourceRecord {
  const rdata = encodeTxtRdata(update.value);
  return update.op === "add"
    ? { name: update.name, type: RR_TYPE.TXT, class: RR_CLASS.IN, ttl: update.ttlS, rdata }
    : { name: update.name, type: RR_TYPE.TXT, class: RR_CLASS.NONE, ttl: 0, rdata };
}

/** One request/response exchange over DNS-over-TCP (two-byte length prefix, RFC 1035 §4.2.2). */
function exchange(host: string, port: number, request: Buffer, timeoutMs: number, signal?: AbortSignal) {
  return new Promise<Buffer>((resolve, reject) => {
    const socket = connect({ host, port });
    let received = Buffer.alloc(0);
    const fail = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onAbort = () => fail(new DnsUpdateError("the DNS update was cancelled"));
    const timer = setTimeout(
      () => fail(new DnsUpdateError(`no answer from ${host}:${port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.on("error", (err) => fail(new DnsUpdateError(`cannot reach ${host}:${port}: ${err.message}`)));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 2) return;
      const length = received.readUInt16BE(0);
      if (length > MAX_RESPONSE_BYTES) return fail(new DnsUpdateError("oversized DNS response"));
      if (received.length >= 2 + length) {
        cleanup();
        resolve(received.subarray(2, 2 + length));
      }
    });
    socket.on("end", () =>
      fail(new DnsUpdateError(`${host}:${port} closed the connection without an answer`)),
    );
    socket.on("connect", () => {
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(request.length);
      socket.write(Buffer.concat([prefix, request]));
    });
  });
}

/**
 * Sends a TSIG-signed dynamic update (RFC 2136) and checks the signed answer. Resolves when the
 * server applied it; rejects with a DnsUpdateError naming the server's RCODE or TSIG error.
 */
export async function sendDnsUpdate(req: DnsUpdateRequest): Promise<void> {
  const now = req.now ?? Date.now;
  const id = randomInt(0, 0x10000);
  const message = encodeMessage({
    id,
    flags: OPCODE_UPDATE << 11,
    questions: [{ name: req.zone, type: RR_TYPE.SOA, class: RR_CLASS.IN }],
    answers: [],
    authorities: req.updates.map(toRecord),
    additionals: [],
  });
  const { signed, mac } = signMessage(message, req.key, now());
  const raw = await exchange(req.host, req.port, signed, req.timeoutMs, req.signal);
  const response = decodeMessage(raw);
  if (response.id !== id) throw new DnsUpdateError("the DNS server answered another request (ID mismatch)");
  const verdict = verifyResponse(raw, response, req.key, mac, now());
  const rcode = RCODE_NAMES[rcodeOf(response.flags)] ?? `RCODE ${rcodeOf(response.flags)}`;
  if (!verdict.ok && "serverError" in verdict) {
    const tsigError = RCODE_NAMES[verdict.serverError] ?? `TSIG error ${verdict.serverError}`;
    throw new DnsUpdateError(
      `${req.host}:${req.port} rejected the TSIG signature of key "${req.key.name}" (${rcode}/${tsigError})`,
      tsigError,
    );
  }
  // An unsigned answer is trusted only to report a refusal (servers refuse unknown keys unsigned).
  if (rcode !== "NOERROR") {
    throw new DnsUpdateError(
      `${req.host}:${req.port} refused the update of zone ${req.zone} (${rcode})`,
      rcode,
    );
  }
  if (!verdict.ok) throw new DnsUpdateError(`${req.host}:${req.port}: ${verdict.problem}`);
}
