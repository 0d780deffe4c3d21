import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { lstat, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { checkVersion } from "@tako/appspec";

const run = promisify(execFile);

/** What git says about the app's directory, when it is inside a repository with a commit. */
export interface GitInfo {
  /** The repository's top-level directory. */
  readonly root: string;
  /** HEAD, 12 hex characters. */
  readonly commit: string;
  /** Subject line of HEAD. */
  readonly subject: string;
  /** True when files under the app directory differ from HEAD (tracked changes or new files). */
  readonly dirty: boolean;
}

export interface ReleaseVersion {
  /** "<commit>" clean, "<commit>_<hash8>" dirty, "nogit_<hash8>" without git. */
  readonly version: string;
  /** SHA-256 hex over the source files (path and content), whatever git says. */
  readonly contentHash: string;
  readonly git: GitInfo | undefined;
}

async function git(cwd: string, ...args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await run("git", args, { cwd, maxBuffer: 64 << 20 });
    return stdout;
  } catch {
    return undefined;
  }
}

export async function gitInfo(appDir: string): Promise<GitInfo | undefined> {
  const root = (await git(appDir, "rev-parse", "--show-toplevel"))?.trim();
  const commit = (await git(appDir, "rev-parse", "--short=12", "--verify", "HEAD"))?.trim();
  if (!root || !commit) return undefined;
  const subject = (await git(appDir, "log", "-1", "--format=%s"))?.trim() ?? "";
  const status = await git(appDir, "status", "--porcelain", "--untracked-files=normal", "--", ".");
  return { root, commit, subject, dirty: status === undefined || status.trim() !== "" };
}

/** SHA-256 hex over each source entry's path and content (a symlink's target). */
export async function contentHash(appDir: string, files: readonly string[]): Promise<string> {
  const hash = createHash("sha256");
  for (const file of files) {
    const full = join(appDir, file);
    const st = await lstat(full);
    const body = st.isSymbolicLink() ? Buffer.from(`symlink:${await readlink(full)}`) : await readFile(full);
    hash.update(`${file}\0${st.mode & 0o111 ? "x" : "-"}\0${body.length}\0`);
    hash.update(body);
  }
  return hash.digest("hex");
}

/** The release version of the app's source: git hash; a dirty tree adds a content hash; no git → a content hash. */
export async function releaseVersion(
  appDir: string,
  files: readonly string[],
  info: GitInfo | undefined,
): Promise<ReleaseVersion> {
  const digest = await contentHash(appDir, files);
  const short = digest.slice(0, 8);
  const version = !info ? `nogit_${short}` : info.dirty ? `${info.commit}_${short}` : info.commit;
  return { version: checkVersion(version), contentHash: digest, git: info };
}
