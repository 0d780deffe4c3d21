import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { TakoError } from "@tako/errors";
import { symlinkStaysInside } from "./entry-path.js";
import { END_OF_ARCHIVE, encodeHeader, entryPadding, type TarHeader } from "./tar-format.js";

export interface PackResult {
  /** Lowercase hex SHA-256 of the artifact file. */
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly files: number;
}

export interface PackOptions {
  /** Modification time recorded for every entry, in seconds (default 0: byte-identical output). */
  readonly mtime?: number;
}

interface SourceEntry {
  readonly header: TarHeader;
  readonly absolute: string;
}

/** Every entry under `root`, depth first, names sorted by code unit, so output is deterministic. */
async function* walk(root: string, dir: string, mtime: number): AsyncGenerator<SourceEntry> {
  const names = (await readdir(dir)).sort();
  for (const name of names) {
    const absolute = join(dir, name);
    const path = relative(root, absolute).split(sep).join("/");
    const st = await lstat(absolute);
    if (st.isDirectory()) {
      yield {
        absolute,
        header: { path: `${path}/`, type: "directory", mode: 0o755, sizeBytes: 0, linkTarget: "", mtime },
      };
      yield* walk(root, absolute, mtime);
    } else if (st.isFile()) {
      const mode = st.mode & 0o111 ? 0o755 : 0o644;
      yield { absolute, header: { path, type: "file", mode, sizeBytes: st.size, linkTarget: "", mtime } };
    } else if (st.isSymbolicLink()) {
      const target = await readlink(absolute);
      if (!symlinkStaysInside(path, target)) {
        throw new TakoError(
          "ARTIFACT_REJECTED",
          `symbolic link ${path} points outside the build (${target})`,
          {
            hint: "Make the link relative and inside the app, or copy the file instead.",
            metadata: { entry: path },
          },
        );
      }
      yield {
        absolute,
        header: { path, type: "symlink", mode: 0o777, sizeBytes: 0, linkTarget: target, mtime },
      };
    } else {
      throw new TakoError("ARTIFACT_REJECTED", `${path} is not a file, directory or symbolic link`, {
        hint: "Remove sockets, FIFOs and device files from the build output.",
        metadata: { entry: path },
      });
    }
  }
}

async function* tarStream(root: string, mtime: number, counter: { files: number }): AsyncGenerator<Buffer> {
  for await (const entry of walk(root, root, mtime)) {
    yield encodeHeader(entry.header);
    if (entry.header.type !== "file") continue;
    counter.files++;
    let written = 0;
    for await (const chunk of createReadStream(entry.absolute)) {
      written += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
    if (written !== entry.header.sizeBytes) {
      throw new TakoError(
        "ARTIFACT_REJECTED",
        `${entry.header.path} changed while the artifact was being written`,
        {
          hint: "Run the deploy again once nothing writes to the build directory.",
        },
      );
    }
    yield entryPadding(written);
  }
  yield END_OF_ARCHIVE;
}

/**
 * Writes `sourceDir` as a gzip-compressed tar to `outFile`: regular files (executable bit kept),
 * directories and relative symlinks that stay inside; uid/gid 0 and a fixed mtime, so the same
 * tree always gives the same bytes.
 */
export async function packArtifact(
  sourceDir: string,
  outFile: string,
  options: PackOptions = {},
): Promise<PackResult> {
  const counter = { files: 0 };
  const hash = createHash("sha256");
  let sizeBytes = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      sizeBytes += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(
    Readable.from(tarStream(sourceDir, options.mtime ?? 0, counter)),
    createGzip({ level: 6 }),
    measure,
    createWriteStream(outFile, { mode: 0o644 }),
  );
  return { sha256: hash.digest("hex"), sizeBytes, files: counter.files };
}
