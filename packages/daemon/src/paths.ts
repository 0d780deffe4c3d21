import { isAbsolute, join, resolve } from "node:path";

/**
 * Every path a daemon touches, derived from one root directory: "/" in production, any
 * directory for tests and the local host, so the whole set runs unprivileged in a temp dir.
 */
export interface HostPaths {
  readonly root: string;
  /** Daemon sockets (symlinks to per-process sockets) and the launcher's pid/state files. */
  readonly runDir: string;
  /** Logs of the local host launcher and of daemons started by it. */
  readonly logDir: string;
  /** Host configuration. */
  readonly etcDir: string;
  /** Tako's data: apps, certificates, state. */
  readonly optDir: string;
  readonly appsDir: string;
  readonly certsDir: string;
  readonly stateDir: string;
  /** `{apps}/{app}/{env}`: releases/, current, data/. */
  appDir(app: string, env: string): string;
}

export function hostPaths(root: string): HostPaths {
  if (!isAbsolute(root)) throw new Error(`root directory must be absolute: ${root}`);
  const base = resolve(root);
  const optDir = join(base, "opt/tako");
  const appsDir = join(optDir, "apps");
  return Object.freeze({
    root: base,
    runDir: join(base, "var/run/tako"),
    logDir: join(base, "var/log/tako"),
    etcDir: join(base, "etc/tako"),
    optDir,
    appsDir,
    certsDir: join(optDir, "certs"),
    stateDir: join(optDir, "state"),
    appDir: (app: string, env: string) => join(appsDir, app, env),
  });
}
