// Rules for paths inside a release artifact. Pure functions; the extractor applies them to every
// entry before anything is written.

/** Longest entry path and path segment accepted, in bytes. */
export const MAX_PATH_BYTES = 4096;
export const MAX_SEGMENT_BYTES = 255;

/**
 * Returns the normalized relative path of an entry ("a/b/c"), or a reason why it is refused:
 * absolute paths, any ".." segment, NUL bytes and oversize names. "." segments, repeated and
 * trailing slashes are dropped. "" means the archive root itself.
 */
export function normalizeEntryPath(raw: string): { ok: true; path: string } | { ok: false; why: string } {
  if (raw.includes("\0")) return { ok: false, why: "contains a NUL byte" };
  if (raw.startsWith("/")) return { ok: false, why: "is an absolute path" };
  if (Buffer.byteLength(raw) > MAX_PATH_BYTES)
    return { ok: false, why: `is longer than ${MAX_PATH_BYTES} bytes` };
  const segments = raw.split("/").filter((s) => s !== "" && s !== ".");
  for (const s of segments) {
    if (s === "..") return { ok: false, why: "contains a '..' segment" };
    if (Buffer.byteLength(s) > MAX_SEGMENT_BYTES)
      return { ok: false, why: `has a name longer than ${MAX_SEGMENT_BYTES} bytes` };
  }
  return { ok: true, path: segments.join("/") };
}

/**
 * Whether a symbolic link at `entryPath` with target `target` stays inside the archive root when
 * resolved lexically. Absolute targets never do. (The extractor also checks the real resolution
 * once everything is written, which catches chains of links.)
 */
export function symlinkStaysInside(entryPath: string, target: string): boolean {
  if (target === "" || target.startsWith("/") || target.includes("\0")) return false;
  const parts = entryPath.split("/").slice(0, -1);
  for (const s of target.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") {
      if (parts.length === 0) return false;
      parts.pop();
    } else parts.push(s);
  }
  return true;
}
