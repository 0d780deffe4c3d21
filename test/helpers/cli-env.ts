import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { makeTempRoot, runTako, type TempRoot, type TestSshd } from "@tako/testkit";

/**
 * A user's machine for the CLI under test: a temp HOME (with ~/.ssh set up for the harness
 * sshd, unless told otherwise) and TAKO_HOME, so tests never touch the real ~/.ssh or config.
 */
export interface CliUser {
  readonly home: string;
  readonly takoHome: string;
  readonly env: NodeJS.ProcessEnv;
  tako(
    args: readonly string[],
    options?: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string },
  ): ReturnType<typeof runTako>;
  cleanup(): Promise<void>;
}

export async function makeCliUser(
  sshd: TestSshd | undefined,
  options: { knownHosts?: boolean; hashed?: boolean } = {},
): Promise<CliUser> {
  const temp: TempRoot = await makeTempRoot("user");
  const home = join(temp.root, "home");
  const takoHome = join(temp.root, "tako");
  await mkdir(home, { recursive: true });
  if (sshd) await sshd.setUpHome(home, options);
  const env: NodeJS.ProcessEnv = {
    HOME: home,
    TAKO_HOME: takoHome,
    XDG_CONFIG_HOME: join(home, ".config"),
    SSH_AUTH_SOCK: "",
    TAKO_SSH_PASSPHRASE: "",
  };
  return {
    home,
    takoHome,
    env,
    tako: (args, opts = {}) =>
      runTako(args, { ...opts, env: { ...env, ...opts.env }, ...(opts.cwd ? { cwd: opts.cwd } : {}) }),
    cleanup: () => temp.cleanup(),
  };
}
