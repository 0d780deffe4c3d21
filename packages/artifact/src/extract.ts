import { createReadStream } from "node:fs";
import {
  type FileHandle,
  lstat,
  mkdir,
  mkdtemp,
  open,
  realpath,
  rename,
  rm,
  symlink,
} from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { createGunzip } from "node:zlib";
import { TakoError } from "@tako/errors";
import { normalizeEntryPath, symlinkStaysInside } from "./entry-path.js";
import {
  BLOCK_BYTES,
  decodeHeaderBlock,
  isZeroBlock,
  parsePaxRecords,
  type RawTarHeader,
  TarFormatError,
} from "./tar-format.js";

export interface ExtractLimits {
  readonly maxEntries: number;
  /** Sum of file sizes once unpacked (guards against decompression bombs). */
  readonly maxTotalBytes: number;
  readonly maxFileBytes: number;
}

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = Object.freeze({
  maxEntries: 200_000,
  maxTotalBytes: 2 * 1024 ** 3,
  maxFileBytes: 1024 ** 3,
});

export interface ExtractResult {
  readonly files: number;
  readonly directories: number;
  readonly symlinks: number;
  readonly bytes: number;
}

const KIND_OF_FLAG: Record<string, string> = {
  "1": "a hard link",
  "3": "a character device",
  "4": "a block device",
  "6": "a FIFO",
  "7": "a contiguous file",
  L: "a GNU long-name header",
  K: "a GNU long-link header",
  g: "a global pax header",
};

function reject(message: string, entry?: string): TakoError {
  return new TakoError("ARTIFACT_REJECTED", `artifact rejected: ${message}`, {
    hint: "Rebuild the artifact with `tako deploy`; nothing was written on the server.",
    ...(entry === undefined ? {} : { metadata: { entry: entry.slice(0, 200) } }),
  });
}

/** Reads exact byte counts out of a stream of chunks. */
class ByteReader {
  readonly #it: AsyncIterator<Buffer>;
  #buffer: Buffer<ArrayBufferLike> = Buffer.alloc(0);
  #done = false;

  constructor(source: AsyncIterable<Buffer>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  async #fill(n: number): Promise<void> {
    while (this.#buffer.length < n && !this.#done) {
      const r = await this.#it.next();
      if (r.done) this.#done = true;
      else this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, r.value]) : r.value;
    }
  }

  /** Exactly n bytes, or null at a clean end of input; throws when the input ends midway. */
  async read(n: number): Promise<Buffer<ArrayBufferLike> | null> {
    await this.#fill(n);
    if (this.#buffer.length === 0 && this.#done) return null;
    if (this.#buffer.length < n) throw new TarFormatError("the archive is truncated");
    const out = this.#buffer.subarray(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return out;
  }

  /** Hands `n` bytes to `sink` in chunks as they arrive. */
  async pipe(n: number, sink: (chunk: Buffer) => Promise<void>): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.#buffer.length === 0) await this.#fill(1);
      if (this.#buffer.length === 0) throw new TarFormatError("the archive is truncated");
      const take = Math.min(left, this.#buffer.length);
      const chunk = this.#buffer.subarray(0, take);
      this.#buffer = this.#buffer.subarray(take);
      left -= take;
      await sink(chunk);
    }
  }
}

async function* gunzipped(file: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of createReadStream(file).pipe(createGunzip())) yield chunk as Buffer;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code?.startsWith("Z_"))
      throw new TarFormatError("not a gzip-compressed tar archive");
    throw err;
  }
}

/**
 * Unpacks a release artifact into `destDir`, which must not exist yet. Every entry is checked
 * before it is written: only files, directories and symlinks; no absolute path, no "..", no
 * entry written through a symlink, no link that resolves outside, no duplicates, within limits.
 * Everything is written into a temporary sibling directory that is renamed into place only when
 * the whole archive passed, so a rejected artifact leaves nothing behind.
 */
export async function extractArtifact(
  file: string,
  destDir: string,
  limits: ExtractLimits = DEFAULT_EXTRACT_LIMITS,
): Promise<ExtractResult> {
  try {
    await lstat(destDir);
    throw new TakoError("ALREADY_EXISTS", `${basename(destDir)} already exists`, {
      metadata: { release: basename(destDir) },
    });
  } catch (err) {
    if (TakoError.is(err)) throw err;
  }
  const parent = dirname(destDir);
  await mkdir(parent, { recursive: true });
  const tmp = await mkdtemp(join(parent, `.${basename(destDir)}.extract-`));
  try {
    const result = await unpack(new ByteReader(gunzipped(file)), tmp, limits);
    await rename(tmp, destDir);
    return result;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (err instanceof TarFormatError) throw reject(err.message);
    throw err;
  }
}

async function unpack(reader: ByteReader, root: string, limits: ExtractLimits): Promise<ExtractResult> {
  const counts = { files: 0, directories: 0, symlinks: 0, bytes: 0 };
  const knownDirs = new Set<string>([""]);
  const links: string[] = [];
  let entries = 0;
  let pax = new Map<string, string>();

  // Creates the parents of `path` one by one; an existing parent that is not a real directory
  // (a symlink written earlier, or a file) means the entry would be written through it.
  const ensureParents = async (path: string) => {
    const segments = path.split("/").slice(0, -1);
    for (let i = 1; i <= segments.length; i++) {
      const dir = segments.slice(0, i).join("/");
      if (knownDirs.has(dir)) continue;
      const st = await lstat(join(root, dir)).catch(() => undefined);
      if (st && !st.isDirectory())
        throw reject(`entry ${path} would be written through ${dir}, which is not a directory`, path);
      if (!st) await mkdir(join(root, dir), { mode: 0o755 });
      knownDirs.add(dir);
    }
  };

  for (;;) {
    const block = await reader.read(BLOCK_BYTES);
    if (block === null) break; // end of input without the end-of-archive marker: accepted, like tar
    if (isZeroBlock(block)) break;
    const raw: RawTarHeader = decodeHeaderBlock(block);
    if (raw.typeFlag === "x") {
      if (raw.sizeBytes > 1024 * 1024) throw reject("a pax header is larger than 1 MiB");
      const body = await reader.read(padded(raw.sizeBytes));
      if (!body) throw new TarFormatError("the archive is truncated");
      pax = parsePaxRecords(body.subarray(0, raw.sizeBytes));
      continue;
    }
    const rawPath = pax.get("path") ?? raw.path;
    const linkTarget = pax.get("linkpath") ?? raw.linkTarget;
    pax = new Map();
    const kind = KIND_OF_FLAG[raw.typeFlag];
    if (kind) throw reject(`entry ${rawPath} is ${kind}, which releases may not contain`, rawPath);
    if (!["0", "\0", "5", "2"].includes(raw.typeFlag))
      throw reject(`entry ${rawPath} has unknown type '${raw.typeFlag}'`, rawPath);
    const norm = normalizeEntryPath(rawPath);
    if (!norm.ok) throw reject(`entry ${JSON.stringify(rawPath)} ${norm.why}`, rawPath);
    const path = norm.path;
    if (++entries > limits.maxEntries) throw reject(`more than ${limits.maxEntries} entries`);

    if (raw.typeFlag === "5") {
      if (path === "") continue;
      await ensureParents(path);
      const st = await lstat(join(root, path)).catch(() => undefined);
      if (st && !st.isDirectory()) throw reject(`entry ${path} appears twice`, path);
      if (!st) await mkdir(join(root, path), { mode: 0o755 });
      knownDirs.add(path);
      counts.directories++;
      await skip(reader, padded(raw.sizeBytes));
      continue;
    }
    if (path === "") throw reject("an entry names the archive root as a file", rawPath);
    await ensureParents(path);
    const target = join(root, path);

    if (raw.typeFlag === "2") {
      if (!symlinkStaysInside(path, linkTarget))
        throw reject(`symbolic link ${path} points outside the release (${linkTarget})`, path);
      try {
        await symlink(linkTarget, target);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST")
          throw reject(`entry ${path} appears twice`, path);
        throw err;
      }
      links.push(path);
      counts.symlinks++;
      await skip(reader, padded(raw.sizeBytes));
      continue;
    }

    // Regular file.
    if (raw.sizeBytes > limits.maxFileBytes)
      throw reject(`file ${path} is larger than ${limits.maxFileBytes} bytes`, path);
    counts.bytes += raw.sizeBytes;
    if (counts.bytes > limits.maxTotalBytes)
      throw reject(`more than ${limits.maxTotalBytes} bytes once unpacked`);
    let handle: FileHandle;
    try {
      // O_EXCL: never overwrite, never follow a symlink that is already there.
      handle = await open(target, "wx", raw.mode & 0o111 ? 0o755 : 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") throw reject(`entry ${path} appears twice`, path);
      throw err;
    }
    try {
      await reader.pipe(raw.sizeBytes, async (chunk) => {
        await handle.write(chunk);
      });
    } finally {
      await handle.close();
    }
    await skip(reader, padded(raw.sizeBytes) - raw.sizeBytes);
    counts.files++;
  }

  // Lexical checks cannot see chains of links: resolve every link for real.
  const realRoot = await realpath(root);
  for (const link of links) {
    let resolved: string;
    try {
      resolved = await realpath(join(root, link));
    } catch {
      throw reject(`symbolic link ${link} points to nothing inside the release`, link);
    }
    if (resolved !== realRoot && !resolved.startsWith(`${realRoot}/`)) {
      throw reject(`symbolic link ${link} resolves outside the release`, link);
    }
  }
  return counts;
}

function padded(sizeBytes: number): number {
  return Math.ceil(sizeBytes / BLOCK_BYTES) * BLOCK_BYTES;
}

async function skip(reader: ByteReader, n: number): Promise<void> {
  if (n > 0) await reader.pipe(n, async () => undefined);
}
