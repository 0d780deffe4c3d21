import { chmod, chown, lstat, mkdir, readdir, stat } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import type { HostPaths } from "@tako/daemon";
import { TakoError } from "@tako/errors";
import type { AppIdentity } from "./app-user.js";

/** Directories of one {app}/{env} that the supervisor prepares. */
export interface AppDirs {
  readonly appDir: string;
  /** TAKO_DATA_DIR: the app's own, writable by its user. */
  readonly dataDir: string;
  /** Tako's data about the app (logs); the app has no access. */
  readonly takoDir: string;
  readonly logDir: string;
}

export function appDirs(paths: HostPaths, app: string, env: string): AppDirs {
  const appDir = paths.appDir(app, env);
  const takoDir = join(appDir, "data/tako");
  return { appDir, dataDir: join(appDir, "data/app"), takoDir, logDir: join(takoDir, "logs") };
}

/**
 * Creates the app's directories with the right owners. With a per-app identity (a root
 * supervisor): the directories from the host root down to apps/{app} become searchable by
 * others (o+x, never readable), {appDir}, releases/ and data/ belong to root and the app's group
 * (0750), data/app to the app's user, data/tako stays root's (0700). The directories above the
 * host root are not the supervisor's to change: one the app's user cannot search is refused with
 * HOST_ROOT_UNREACHABLE (otherwise every start would fail with a bare "Cannot find module").
 */
export async function prepareAppDirs(
  paths: HostPaths,
  dirs: AppDirs,
  identity: AppIdentity | undefined,
): Promise<void> {
  await mkdir(dirs.dataDir, { recursive: true });
  await mkdir(dirs.logDir, { recursive: true, mode: 0o700 });
  await mkdir(join(dirs.appDir, "releases"), { recursive: true });
  if (!identity) return;
  const appParent = dirname(dirs.appDir);
  for (let dir = appParent; ; dir = dirname(dir)) {
    const st = await lstat(dir);
    if ((st.mode & 0o001) === 0) await chmod(dir, (st.mode & 0o7777) | 0o001);
    if (dir === paths.root || relative(paths.root, dir).startsWith("..") || dir === dirname(dir)) break;
  }
  for (let dir = dirname(paths.root); ; dir = dirname(dir)) {
    const mode = (await stat(dir)).mode & 0o7777;
    if ((mode & 0o001) === 0) {
      throw new TakoError(
        "HOST_ROOT_UNREACHABLE",
        `the app's user ${identity.user} cannot reach the host root ${paths.root}: ${dir} is not searchable by other users (mode ${mode.toString(8).padStart(4, "0")})`,
        { metadata: { dir, root: paths.root } },
      );
    }
    if (dir === dirname(dir)) break;
  }
  for (const dir of [dirs.appDir, join(dirs.appDir, "releases"), join(dirs.appDir, "data")]) {
    await chown(dir, 0, identity.gid);
    await chmod(dir, 0o750);
  }
  await chown(dirs.dataDir, identity.uid, identity.gid);
  await chmod(dirs.dataDir, 0o750);
  await chown(dirs.takoDir, 0, 0);
  await chmod(dirs.takoDir, 0o700);
}

/**
 * Lets the app's group read a release: every file and directory (symlinks are not followed, so
 * the linked SDK is never touched) goes to the app's group with group read (and search/execute
 * where the owner has it).
 */
export async function grantRelease(releaseDir: string, identity: AppIdentity): Promise<void> {
  const walk = async (path: string): Promise<void> => {
    const st = await lstat(path);
    if (st.isSymbolicLink()) return;
    const mode = st.mode & 0o7777;
    const groupBits = 0o040 | (mode & 0o100 ? 0o010 : 0) | (st.isDirectory() ? 0o010 : 0);
    if (st.gid !== identity.gid) await chown(path, st.uid, identity.gid);
    if ((mode & groupBits) !== groupBits) await chmod(path, mode | groupBits);
    if (st.isDirectory()) {
      await Promise.all((await readdir(path)).map((entry) => walk(`${path}${sep}${entry}`)));
    }
  };
  await walk(releaseDir);
}
