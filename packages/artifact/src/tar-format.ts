// The tar format used by release artifacts: POSIX ustar headers, with pax extended headers for
// paths and link targets that do not fit. Only what releases need is supported: regular files,
// directories and symbolic links. Everything here is pure (bytes in, bytes out).

export const BLOCK_BYTES = 512;

export type EntryType = "file" | "directory" | "symlink";

export interface TarHeader {
  readonly path: string;
  readonly type: EntryType;
  /** Permission bits only (no setuid/setgid/sticky). */
  readonly mode: number;
  readonly sizeBytes: number;
  /** Target of a symlink; "" otherwise. */
  readonly linkTarget: string;
  /** Seconds since the epoch. */
  readonly mtime: number;
}

/** A header as read from an archive, before any validation: the raw type flag is kept. */
export interface RawTarHeader {
  readonly path: string;
  readonly typeFlag: string;
  readonly mode: number;
  readonly sizeBytes: number;
  readonly linkTarget: string;
  readonly mtime: number;
}

const TYPE_FLAGS: Record<EntryType, string> = { file: "0", directory: "5", symlink: "2" };

function writeString(block: Buffer, offset: number, length: number, value: string): void {
  block.write(value, offset, length, "utf8");
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  // length-1 octal digits, then NUL.
  const digits = value.toString(8).padStart(length - 1, "0");
  if (digits.length > length - 1) throw new Error(`value ${value} does not fit a ${length}-byte tar field`);
  block.write(`${digits}\0`, offset, length, "ascii");
}

function checksum(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK_BYTES; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
  return sum;
}

/** Splits a path into ustar's prefix (≤155 bytes) and name (≤100 bytes), or undefined. */
function splitUstarPath(path: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(path) <= 100) return { prefix: "", name: path };
  for (let i = path.length - 1; i > 0; i--) {
    if (path[i] !== "/") continue;
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name.length > 0)
      return { prefix, name };
  }
  return undefined;
}

function paxRecord(key: string, value: string): string {
  // "<len> <key>=<value>\n", where <len> counts itself.
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len)
    len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

function headerBlock(fields: {
  name: string;
  prefix: string;
  mode: number;
  size: number;
  mtime: number;
  typeFlag: string;
  linkName: string;
}): Buffer {
  const block = Buffer.alloc(BLOCK_BYTES);
  writeString(block, 0, 100, fields.name);
  writeOctal(block, 100, 8, fields.mode);
  writeOctal(block, 108, 8, 0); // uid
  writeOctal(block, 116, 8, 0); // gid
  writeOctal(block, 124, 12, fields.size);
  writeOctal(block, 136, 12, fields.mtime);
  block.fill(0x20, 148, 156);
  writeString(block, 156, 1, fields.typeFlag);
  writeString(block, 157, 100, fields.linkName);
  block.write("ustar\0", 257, 6, "ascii");
  block.write("00", 263, 2, "ascii");
  writeString(block, 345, 155, fields.prefix);
  writeOctal(block, 148, 7, checksum(block));
  block[155] = 0x20;
  return block;
}

function padding(sizeBytes: number): Buffer {
  const rest = sizeBytes % BLOCK_BYTES;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK_BYTES - rest);
}

/**
 * Encodes one entry's header blocks (a pax header first when the path or link target does not
 * fit ustar). The caller writes the body (`sizeBytes` bytes) and then `padding(sizeBytes)`.
 * Low level on purpose: it encodes whatever it is given (tests use it to build hostile archives).
 */
export function encodeHeader(header: TarHeader | RawTarHeader): Buffer {
  const typeFlag = "typeFlag" in header ? header.typeFlag : TYPE_FLAGS[header.type];
  const split = splitUstarPath(header.path);
  const linkFits = Buffer.byteLength(header.linkTarget) <= 100;
  const blocks: Buffer[] = [];
  if (!split || !linkFits) {
    let records = "";
    if (!split) records += paxRecord("path", header.path);
    if (!linkFits) records += paxRecord("linkpath", header.linkTarget);
    const body = Buffer.from(records, "utf8");
    blocks.push(
      headerBlock({
        name: "PaxHeader",
        prefix: "",
        mode: 0o644,
        size: body.length,
        mtime: header.mtime,
        typeFlag: "x",
        linkName: "",
      }),
      body,
      padding(body.length),
    );
  }
  blocks.push(
    headerBlock({
      name: split ? split.name : header.path.slice(-100),
      prefix: split ? split.prefix : "",
      mode: header.mode,
      size: header.sizeBytes,
      mtime: header.mtime,
      typeFlag,
      linkName: linkFits ? header.linkTarget : "",
    }),
  );
  return Buffer.concat(blocks);
}

export { padding as entryPadding };

/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(BLOCK_BYTES * 2);

export class TarFormatError extends Error {
  override readonly name = "TarFormatError";
}

function readString(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul === -1 ? length : nul).toString("utf8");
}

function readOctal(block: Buffer, offset: number, length: number, what: string): number {
  const text = readString(block, offset, length).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`invalid ${what} field in a tar header`);
  const n = Number.parseInt(text, 8);
  if (!Number.isSafeInteger(n)) throw new TarFormatError(`${what} field out of range in a tar header`);
  return n;
}

export function isZeroBlock(block: Buffer): boolean {
  for (const byte of block) if (byte !== 0) return false;
  return true;
}

/** Decodes a ustar header block; throws TarFormatError on a bad checksum or malformed field. */
export function decodeHeaderBlock(block: Buffer): RawTarHeader {
  if (block.length !== BLOCK_BYTES) throw new TarFormatError("truncated tar header");
  const stored = readOctal(block, 148, 8, "checksum");
  if (stored !== checksum(block))
    throw new TarFormatError("tar header checksum mismatch (corrupt or not a tar archive)");
  const name = readString(block, 0, 100);
  const magic = block.subarray(257, 263).toString("ascii");
  const prefix = magic.startsWith("ustar") ? readString(block, 345, 155) : "";
  return {
    path: prefix ? `${prefix}/${name}` : name,
    typeFlag: String.fromCharCode(block[156] ?? 0),
    mode: readOctal(block, 100, 8, "mode"),
    sizeBytes: readOctal(block, 124, 12, "size"),
    linkTarget: readString(block, 157, 100),
    mtime: readOctal(block, 136, 12, "mtime"),
  };
}

/** Parses pax extended header records ("<len> <key>=<value>\n"…). */
export function parsePaxRecords(body: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let offset = 0;
  while (offset < body.length) {
    const space = body.indexOf(0x20, offset);
    if (space === -1) throw new TarFormatError("malformed pax header");
    const len = Number(body.subarray(offset, space).toString("ascii"));
    if (!Number.isSafeInteger(len) || len <= space - offset || offset + len > body.length) {
      throw new TarFormatError("malformed pax header record length");
    }
    const record = body.subarray(space + 1, offset + len - 1).toString("utf8");
    const eq = record.indexOf("=");
    if (eq <= 0 || body[offset + len - 1] !== 0x0a) throw new TarFormatError("malformed pax header record");
    out.set(record.slice(0, eq), record.slice(eq + 1));
    offset += len;
  }
  return out;
}
