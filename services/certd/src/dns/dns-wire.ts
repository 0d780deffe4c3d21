// DNS message encoding (RFC 1035 §4), just what dynamic updates (RFC 2136) and TSIG (RFC 8945)
// need: names, header, resource records, and a decoder that follows compression pointers.

export const RR_TYPE = { SOA: 6, TXT: 16, TSIG: 250, ANY: 255 } as const;
export const RR_CLASS = { IN: 1, NONE: 254, ANY: 255 } as const;
export const OPCODE_UPDATE = 5;

export const RCODE_NAMES: Readonly<Record<number, string>> = {
  0: "NOERROR",
  1: "FORMERR",
  2: "SERVFAIL",
  3: "NXDOMAIN",
  4: "NOTIMP",
  5: "REFUSED",
  6: "YXDOMAIN",
  7: "YXRRSET",
  8: "NXRRSET",
  9: "NOTAUTH",
  10: "NOTZONE",
  16: "BADSIG",
  17: "BADKEY",
  18: "BADTIME",
  22: "BADTRUNC",
};

export interface Question {
  readonly name: string;
  readonly type: number;
  readonly class: number;
}

export interface ResourceRecord {
  readonly name: string;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  readonly rdata: Uint8Array;
}

export interface DnsMessage {
  readonly id: number;
  /** QR, opcode, AA, TC, RD, RA, Z and RCODE bits, as on the wire. */
  readonly flags: number;
  /** Question section (the Zone section of an UPDATE). */
  readonly questions: readonly Question[];
  /** Answer section (Prerequisite in an UPDATE). */
  readonly answers: readonly ResourceRecord[];
  /** Authority section (Update in an UPDATE). */
  readonly authorities: readonly ResourceRecord[];
  readonly additionals: readonly ResourceRecord[];
}

export class DnsWireError extends Error {
  override readonly name = "DnsWireError";
}

/** Uncompressed wire form of a name. `lowercase` gives the canonical form TSIG digests use. */
export function encodeName(name: string, lowercase = false): Buffer {
  const trimmed = name.endsWith(".") ? name.slice(0, -1) : name;
  const parts: Buffer[] = [];
  if (trimmed.length > 0) {
    for (const label of trimmed.split(".")) {
      const bytes = Buffer.from(lowercase ? label.toLowerCase() : label, "ascii");
      if (bytes.length === 0 || bytes.length > 63) throw new DnsWireError(`bad label in "${name}"`);
      parts.push(Buffer.from([bytes.length]), bytes);
    }
  }
  parts.push(Buffer.from([0]));
  const out = Buffer.concat(parts);
  if (out.length > 255) throw new DnsWireError(`name too long: "${name}"`);
  return out;
}

/** TXT RDATA: the value as <character-string>s of at most 255 bytes each. */
export function encodeTxtRdata(value: string): Buffer {
  const bytes = Buffer.from(value, "utf8");
  const parts: Buffer[] = [];
  for (let i = 0; i === 0 || i < bytes.length; i += 255) {
    const chunk = bytes.subarray(i, i + 255);
    parts.push(Buffer.from([chunk.length]), chunk);
  }
  return Buffer.concat(parts);
}

/** An unsigned big-endian integer of `bytes` bytes (network order). */
export function uint(n: number, bytes: 2 | 4 | 6): Buffer {
  const b = Buffer.alloc(bytes);
  b.writeUIntBE(n, 0, bytes);
  return b;
}

const u16 = (n: number) => uint(n, 2);
const u32 = (n: number) => uint(n, 4);

export function encodeRecord(rr: ResourceRecord): Buffer {
  return Buffer.concat([
    encodeName(rr.name),
    u16(rr.type),
    u16(rr.class),
    u32(rr.ttl),
    u16(rr.rdata.length),
    Buffer.from(rr.rdata),
  ]);
}

export function encodeMessage(m: DnsMessage): Buffer {
  const header = Buffer.concat([
    u16(m.id),
    u16(m.flags),
    u16(m.questions.length),
    u16(m.answers.length),
    u16(m.authorities.length),
    u16(m.additionals.length),
  ]);
  const questions = m.questions.map((q) => Buffer.concat([encodeName(q.name), u16(q.type), u16(q.class)]));
  return Buffer.concat([
    header,
    ...questions,
    ...m.answers.map(encodeRecord),
    ...m.authorities.map(encodeRecord),
    ...m.additionals.map(encodeRecord),
  ]);
}

/** Reads a possibly compressed name at `offset`; returns it and the offset after it. */
export function decodeName(buf: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let pos = offset;
  let next = -1;
  for (let jumps = 0; ; ) {
    const len = buf[pos];
    if (len === undefined) throw new DnsWireError("name runs past the end of the message");
    if (len === 0) {
      pos += 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      const ptr = buf.readUInt16BE(pos) & 0x3fff;
      if (next < 0) next = pos + 2;
      if (++jumps > 64 || ptr >= buf.length) throw new DnsWireError("bad compression pointer");
      pos = ptr;
      continue;
    }
    if (len > 63) throw new DnsWireError("bad label length");
    if (pos + 1 + len > buf.length) throw new DnsWireError("label runs past the end of the message");
    labels.push(buf.toString("ascii", pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  return { name: labels.join("."), next: next < 0 ? pos : next };
}

/** A decoded message, plus where its last additional record starts (TSIG verification needs it). */
export interface DecodedMessage extends DnsMessage {
  readonly lastAdditionalOffset: number;
}

export function decodeMessage(buf: Buffer): DecodedMessage {
  if (buf.length < 12) throw new DnsWireError("message shorter than a DNS header");
  const counts = [buf.readUInt16BE(4), buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)];
  let pos = 12;
  const questions: Question[] = [];
  for (let i = 0; i < (counts[0] ?? 0); i++) {
    const { name, next } = decodeName(buf, pos);
    if (next + 4 > buf.length) throw new DnsWireError("truncated question");
    questions.push({ name, type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2) });
    pos = next + 4;
  }
  let lastAdditionalOffset = -1;
  const readRecords = (count: number, additional: boolean): ResourceRecord[] => {
    const out: ResourceRecord[] = [];
    for (let i = 0; i < count; i++) {
      if (additional) lastAdditionalOffset = pos;
      const { name, next } = decodeName(buf, pos);
      if (next + 10 > buf.length) throw new DnsWireError("truncated record");
      const rdlength = buf.readUInt16BE(next + 8);
      const start = next + 10;
      if (start + rdlength > buf.length) throw new DnsWireError("record data runs past the end");
      out.push({
        name,
        type: buf.readUInt16BE(next),
        class: buf.readUInt16BE(next + 2),
        ttl: buf.readUInt32BE(next + 4),
        rdata: buf.subarray(start, start + rdlength),
      });
      pos = start + rdlength;
    }
    return out;
  };
  const answers = readRecords(counts[1] ?? 0, false);
  const authorities = readRecords(counts[2] ?? 0, false);
  const additionals = readRecords(counts[3] ?? 0, true);
  return {
    id: buf.readUInt16BE(0),
    flags: buf.readUInt16BE(2),
    questions,
    answers,
    authorities,
    additionals,
    lastAdditionalOffset,
  };
}

/** The 4-bit RCODE of the header (TSIG carries its own extended error). */
export function rcodeOf(flags: number): number {
  return flags & 0x000f;
}
