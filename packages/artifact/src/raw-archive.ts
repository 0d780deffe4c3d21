import { gzipSync } from "node:zlib";
import { END_OF_ARCHIVE, encodeHeader, entryPadding, type RawTarHeader } from "./tar-format.js";

export interface RawEntry {
  /** Any header, unchecked: this builds archives the extractor must refuse, too. */
  readonly header: Partial<RawTarHeader> & { readonly path: string };
  readonly body?: string | Buffer;
}

/**
 * Encodes entries exactly as given into a gzip-compressed tar, without the checks packArtifact
 * applies. For tests of hostile artifacts (and of the extractor's limits).
 */
export function encodeRawArchive(
  entries: readonly RawEntry[],
  options: { end?: boolean; truncateBytes?: number } = {},
): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = typeof e.body === "string" ? Buffer.from(e.body) : (e.body ?? Buffer.alloc(0));
    parts.push(
      encodeHeader({
        typeFlag: "0",
        mode: 0o644,
        linkTarget: "",
        mtime: 0,
        sizeBytes: body.length,
        ...e.header,
      }),
      body,
      entryPadding(body.length),
    );
  }
  if (options.end !== false) parts.push(END_OF_ARCHIVE);
  let tar = Buffer.concat(parts);
  if (options.truncateBytes) tar = tar.subarray(0, tar.length - options.truncateBytes);
  return gzipSync(tar);
}
