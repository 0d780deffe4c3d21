import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { TakoError } from "@tako/errors";

/** The unprivileged account an app's processes run as when the supervisor runs as root. */
export interface AppIdentity {
  readonly user: string;
  readonly uid: number;
  readonly gid: number;
}

/** `tako-<16 hex of sha256("{app}/{env}")>`: stable, within useradd's 32-character limit. */
export function appUserName(app: string, env: string): string {
  return `tako-${createHash("sha256").update(`${app}/${env}`).digest("hex").slice(0, 16)}`;
}

async function lookup(user: string): Promise<AppIdentity | undefined> {
  const passwd = await readFile("/etc/passwd", "utf8");
  for (const line of passwd.split("\n")) {
    const [name, , uid, gid] = line.split(":");
    if (name === user && uid !== undefined && gid !== undefined)
      return { user, uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

function useradd(user: string, comment: string): Promise<number> {
  return new Promise((resolve) => {
    execFile(
      "useradd",
      [
        "--system",
        "--user-group",
        "--no-create-home",
        "--home-dir",
        "/nonexistent",
        "--shell",
        "/usr/sbin/nologin",
        "--comment",
        comment,
        user,
      ],
      (err) => resolve(err ? Number((err as { code?: unknown }).code ?? 1) : 0),
    );
  });
}

/**
 * Per-app accounts, created with `useradd --system --user-group` on first use: each {app}/{env}
 * gets its own user and group, so apps cannot read each other's releases or data. Accounts are
 * kept when an app is deleted (a later deploy of the same name reuses them).
 */
export class AppUsers {
  readonly #known = new Map<string, Promise<AppIdentity>>();

  /** Whether processes get their own account: only a root supervisor can switch users. */
  static get enabled(): boolean {
    return process.getuid?.() === 0;
  }

  ensure(app: string, env: string): Promise<AppIdentity> {
    const user = appUserName(app, env);
    let pending = this.#known.get(user);
    if (!pending) {
      pending = this.#create(user, `Tako app ${app}/${env}`);
      this.#known.set(user, pending);
      pending.catch(() => this.#known.delete(user));
    }
    return pending;
  }

  async #create(user: string, comment: string): Promise<AppIdentity> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const found = await lookup(user);
      if (found) return found;
      const code = await useradd(user, comment);
      // 9: the name exists (another process created it meanwhile); 10: /etc/passwd is locked.
      if (code === 0 || code === 9 || code === 10) {
        if (code === 10) await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
        continue;
      }
      throw new TakoError(
        "APP_START_FAILED",
        `could not create the system user ${user} for the app (useradd exit code ${code})`,
        {
          hint: "Check that useradd works on this host (the passwd package) and that /etc is writable.",
        },
      );
    }
    throw new TakoError(
      "APP_START_FAILED",
      `could not create the system user ${user}: /etc/passwd stayed locked`,
    );
  }
}
