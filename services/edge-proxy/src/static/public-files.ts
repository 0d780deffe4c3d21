import type { Dirent } from "node:fs";
import { lstat, readdir, realpath, stat } from "node:fs/promises";
import { join, sep } from "node:path";
import { contentTypeOf } from "./mime-types.js";

/** One servable file of a release's public/ directory. */
export interface PublicFile {
  /** Real path on disk (inside the real public/ directory). */
  readonly absPath: string;
  readonly size: number;
  readonly contentType: string;
  /** `"<size>-<mtime seconds>"`, quotes included. */
  readonly etag: string;
}

/** Files indexed per release at most; past it the rest is left to the app (and logged). */
export const MAX_PUBLIC_FILES = 100_000;

/**
 * The files of `<release>/public`, indexed once per release (a release directory never changes
 * after extraction), so the hot path answers "is this a static file?" from memory. Keys are
 * URL paths ("/assets/main.js"); a directory holding index.html is also a key ("/docs").
 * Only regular files whose real path stays inside public/ are indexed: a symlink that leads out
 * (or to a directory) is not, so no request can reach anything outside public/.
 */
export class PublicFiles {
  readonly root: string;
  readonly #files: Map<string, PublicFile>;
  /** True when the directory had more than MAX_PUBLIC_FILES files. */
  readonly truncated: boolean;

  private constructor(root: string, files: Map<string, PublicFile>, truncated: boolean) {
    this.root = root;
    this.#files = files;
    this.truncated = truncated;
  }

  get size(): number {
    return this.#files.size;
  }

  /** `path` is decoded and normalized (see normalizeStaticPath). */
  get(path: string): PublicFile | undefined {
    return this.#files.get(path);
  }

  /** Indexes `<releaseDir>/public`; an empty index when it does not exist. */
  static async index(releaseDir: string): Promise<PublicFiles> {
    const files = new Map<string, PublicFile>();
    if (releaseDir === "") return new PublicFiles("", files, false);
    let root: string;
    try {
      root = await realpath(join(releaseDir, "public"));
      if (!(await stat(root)).isDirectory()) return new PublicFiles("", files, false);
    } catch {
      return new PublicFiles("", files, false);
    }
    let truncated = false;
    const walk = async (dir: string, urlPrefix: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        if (files.size >= MAX_PUBLIC_FILES) {
          truncated = true;
          return;
        }
        const abs = join(dir, entry.name);
        const url = `${urlPrefix}/${entry.name}`;
        if (entry.isDirectory()) {
          await walk(abs, url);
        } else if (entry.isFile()) {
          const info = await lstat(abs).catch(() => undefined);
          if (info?.isFile()) files.set(url, fileOf(abs, info.size, info.mtimeMs));
        } else if (entry.isSymbolicLink()) {
          // Followed only when it resolves to a regular file inside public/.
          const real = await realpath(abs).catch(() => undefined);
          if (!real || !(real === root || real.startsWith(root + sep))) continue;
          const info = await stat(real).catch(() => undefined);
          if (info?.isFile()) files.set(url, fileOf(real, info.size, info.mtimeMs));
        }
      }
      const index = files.get(`${urlPrefix}/index.html`);
      if (index && urlPrefix !== "") files.set(urlPrefix, index);
    };
    await walk(root, "");
    const index = files.get("/index.html");
    if (index) files.set("/", index);
    return new PublicFiles(root, files, truncated);
  }
}

function fileOf(absPath: string, size: number, mtimeMs: number): PublicFile {
  return {
    absPath,
    size,
    contentType: contentTypeOf(absPath),
    etag: `"${size}-${Math.floor(mtimeMs / 1000)}"`,
  };
}

export type NormalizedPath =
  | { readonly kind: "ok"; readonly path: string }
  /** Bad percent-encoding, NUL or a ".." segment: answered 400, never looked up. */
  | { readonly kind: "bad" };

/**
 * Decodes a request path (no query) for a static lookup: percent-decoding, "." segments dropped,
 * a trailing "/" dropped. Bad UTF-8, NUL, a backslash or ".." (encoded or not) make it bad.
 */
export function normalizeStaticPath(rawPath: string): NormalizedPath {
  let path = rawPath;
  if (path.includes("%")) {
    try {
      path = decodeURIComponent(path);
    } catch {
      return { kind: "bad" };
    }
  }
  if (path.includes("\0") || path.includes("\\")) return { kind: "bad" };
  if (!path.includes("/.") && !path.includes("//") && (path.length === 1 || !path.endsWith("/"))) {
    return { kind: "ok", path };
  }
  const out: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") return { kind: "bad" };
    out.push(segment);
  }
  return { kind: "ok", path: `/${out.join("/")}` };
}

/**
 * Whether a path looks like an asset (its last segment has a "." that does not end it): only
 * those are looked up in public/, as in the original; everything else goes to the app.
 */
export function looksLikeAsset(rawPath: string): boolean {
  const slash = rawPath.lastIndexOf("/");
  const dot = rawPath.lastIndexOf(".");
  return dot > slash && dot !== rawPath.length - 1;
}
