import { randomBytes } from "node:crypto";
import { link, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { isErrno } from "@tako/rpc";

function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
}

async function writeSynced(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const file = await open(path, "wx", mode);
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
}

/** fsync of a directory, so a rename or a new entry in it survives a power cut. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` with `data` atomically: written and fsynced under a temporary name with its
 * final mode (so a key is never readable by others, even for a moment), then renamed over the
 * old file. A reader sees the old content or the new, never a torn one.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const tmp = tempPath(path);
  try {
    await writeSynced(tmp, data, mode);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dirname(path));
}

/**
 * Creates `path` with `data` unless it exists: returns false, leaving the existing file alone,
 * when another process got there first. The file appears complete or not at all (link(2) of a
 * fully written temporary file), so concurrent creators agree on one content.
 */
export async function createFileExclusive(
  path: string,
  data: string | Uint8Array,
  mode: number,
): Promise<boolean> {
  const tmp = tempPath(path);
  await writeSynced(tmp, data, mode);
  try {
    await link(tmp, path);
    await syncDirectory(dirname(path));
    return true;
  } catch (err) {
    if (isErrno(err, "EEXIST")) return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}
