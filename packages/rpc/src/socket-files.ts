import { randomBytes } from "node:crypto";
import { lstat, readdir, readlink, rename, symlink, unlink } from "node:fs/promises";
import { connect } from "node:net";
import { basename, dirname, join, relative } from "node:path";
import { pidOfSocketFile } from "./socket-names.js";

/**
 * Points `linkPath` at `targetPath` atomically: a symlink is created under a temporary name in
 * the same directory and renamed over the old one, so a client resolving the link sees either the
 * old target or the new one, never nothing. The link is relative (to the link's directory), so
 * the tree can move.
 */
export async function swapSymlink(linkPath: string, targetPath: string): Promise<void> {
  const dir = dirname(linkPath);
  const tmp = join(dir, `.${basename(linkPath)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  await symlink(relative(dir, targetPath), tmp);
  try {
    await rename(tmp, linkPath);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** Target (as an absolute path) of the stable symlink, or undefined when there is none. */
export async function readSymlinkTarget(linkPath: string): Promise<string | undefined> {
  try {
    const target = await readlink(linkPath);
    return target.startsWith("/") ? target : join(dirname(linkPath), target);
  } catch (err) {
    if (isErrno(err, "ENOENT") || isErrno(err, "EINVAL")) return undefined;
    throw err;
  }
}

export type SocketProbe = "listening" | "stale" | "missing";

/**
 * Whether a process accepts connections on a Unix socket file. "stale" means the file exists but
 * nobody listens (the owner crashed), which is safe to unlink.
 */
export function probeSocket(socketPath: string, timeoutMs = 1000): Promise<SocketProbe> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    const done = (result: SocketProbe) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    // A listener whose backlog is full may not answer in time; count it as alive, never unlink it.
    const timer = setTimeout(() => done("listening"), timeoutMs);
    socket.once("connect", () => done("listening"));
    socket.once("error", (err) => {
      if (isErrno(err, "ENOENT")) done("missing");
      else if (isErrno(err, "ECONNREFUSED") || isErrno(err, "ENOTSOCK")) done("stale");
      else done("listening");
    });
  });
}

/**
 * Removes the per-process sockets of daemon `name` in `dir` that nobody listens on any more (left
 * behind by a process that crashed or was killed). Sockets of live processes, such as a
 * predecessor still draining, are kept. Returns the paths removed.
 */
export async function reapStaleSockets(dir: string, name: string): Promise<string[]> {
  let files: string[];
  try {
    files = await readdir(dir);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return [];
    throw err;
  }
  const candidates = files.filter((f) => pidOfSocketFile(f, name) !== undefined).map((f) => join(dir, f));
  const removed: string[] = [];
  await Promise.all(
    candidates.map(async (path) => {
      if ((await probeSocket(path)) !== "stale") return;
      try {
        await unlink(path);
        removed.push(path);
      } catch (err) {
        if (!isErrno(err, "ENOENT")) throw err;
      }
    }),
  );
  // A dangling stable link is harmless (the next owner renames over it), but remove one that
  // points at a socket we just reaped so clients fail fast with ENOENT instead of ECONNREFUSED.
  const link = join(dir, `${name}.sock`);
  const target = await readSymlinkTarget(link);
  if (target !== undefined && removed.includes(target)) await unlink(link).catch(() => undefined);
  return removed.sort();
}

/** Removes `path` if it exists and is a socket or symlink; never touches anything else. */
export async function removeSocketFile(path: string): Promise<void> {
  try {
    const st = await lstat(path);
    if (st.isSocket() || st.isSymbolicLink()) await unlink(path);
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
  }
}

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === "object" && err !== null && (err as NodeJS.ErrnoException).code === code;
}
