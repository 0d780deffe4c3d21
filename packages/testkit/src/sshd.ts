import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, isAlive } from "./processes.js";
import { makeTempRoot, type TempRoot } from "./temp-root.js";
import { sleep, waitFor } from "./wait.js";

const run = promisify(execFile);
const SSHD = "/usr/sbin/sshd";

/**
 * A throwaway OpenSSH server on loopback, with its own host key, config and authorized client
 * key, in front of whatever the test runs on this machine. It accepts only the client key it
 * generated, allows forwarding to Unix sockets (the CLI reaches agentd's management socket that
 * way) and stops itself when the test process goes away.
 */
export interface TestSshd {
  readonly host: "127.0.0.1";
  readonly port: number;
  /** The login user: everything runs as root on the test machine. */
  readonly user: string;
  /** `user@127.0.0.1`, as `tako servers add` takes it. */
  readonly target: string;
  /** The harness's directory: keys, config, log. */
  readonly dir: string;
  /** Private key the server accepts (OpenSSH format, no passphrase). */
  readonly clientKeyPath: string;
  /** "ssh-ed25519 AAAA…" of the server's host key. */
  readonly hostPublicKey: string;
  /** OpenSSH-style fingerprint of the host key: "SHA256:…" (base64 without padding). */
  readonly hostFingerprint: string;
  /** A known_hosts line for this server, plain ("[127.0.0.1]:port ssh-ed25519 …") or hashed. */
  knownHostsLine(hashed?: boolean): string;
  /**
   * Makes `home` look like a user's home that trusts this server: ~/.ssh/id_ed25519 (the client
   * key) and, unless knownHosts is false, ~/.ssh/known_hosts with this server's key.
   */
  setUpHome(home: string, options?: { knownHosts?: boolean; hashed?: boolean }): Promise<void>;
  readLog(): Promise<string>;
  /** Stops sshd and every session it still serves, then removes its directory. Idempotent. */
  stop(): Promise<void>;
}

export interface StartTestSshdOptions {
  /** Extra sshd_config lines. */
  readonly config?: readonly string[];
}

/** Starts sshd on a free loopback port; fails (never skips) when openssh-server is missing. */
export async function startTestSshd(options: StartTestSshdOptions = {}): Promise<TestSshd> {
  if (!existsSync(SSHD)) {
    throw new Error(`${SSHD} is missing: install openssh-server (scripts/setup.mjs TEST_PACKAGES does)`);
  }
  const temp = await makeTempRoot("sshd");
  try {
    return await launch(temp, options);
  } catch (err) {
    await temp.cleanup();
    throw err;
  }
}

async function launch(temp: TempRoot, options: StartTestSshdOptions): Promise<TestSshd> {
  const dir = temp.root;
  const hostKey = join(dir, "host_ed25519");
  const clientKey = join(dir, "client_ed25519");
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "tako-test-host", "-f", hostKey]);
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "tako-test-client", "-f", clientKey]);
  await writeFile(join(dir, "authorized_keys"), await readFile(`${clientKey}.pub`));
  await chmod(join(dir, "authorized_keys"), 0o600);
  // sshd needs its privilege-separation directory; it is not ours to remove afterwards.
  await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  const hostPublicKey = (await readFile(`${hostKey}.pub`, "utf8")).trim().split(/\s+/).slice(0, 2).join(" ");
  const blob = Buffer.from(hostPublicKey.split(" ")[1] ?? "", "base64");
  const hostFingerprint = `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
  const logPath = join(dir, "sshd.log");

  let child: ChildProcess | undefined;
  let port = 0;
  // A port that was free a moment ago can be taken by a parallel test: retry on a bind failure.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    const config = [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "PermitRootLogin prohibit-password",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      "AllowStreamLocalForwarding yes",
      "StreamLocalBindUnlink yes",
      "Subsystem sftp internal-sftp",
      "LogLevel VERBOSE",
      "MaxStartups 100",
      "MaxSessions 100",
      ...(options.config ?? []),
    ];
    const configPath = join(dir, "sshd_config");
    await writeFile(configPath, `${config.join("\n")}\n`);
    await run(SSHD, ["-t", "-f", configPath]);
    // sshd runs under a tiny shell guard: the guard's stdin is a pipe from this process, so when
    // this process exits (even killed), `cat` sees EOF and the guard stops sshd. No leftovers.
    child = spawn(
      "sh",
      [
        "-c",
        `${SSHD} -D -f "$1" -E "$2" & pid=$!; cat >/dev/null; kill $pid 2>/dev/null; wait $pid`,
        "sh",
        configPath,
        logPath,
      ],
      { stdio: ["pipe", "ignore", "ignore"], detached: true },
    );
    // Neither the guard nor its pipe keeps this process alive; when it exits, sshd stops.
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    const started = child;
    const ready = await waitFor(
      async () => {
        if (started.exitCode !== null) return "exited";
        return (await sshBanner(port)) ? "ready" : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50, what: `sshd on 127.0.0.1:${port}` },
    ).catch(() => "timeout" as const);
    if (ready === "ready") break;
    await stopGuard(started);
    const log = await readFile(logPath, "utf8").catch(() => "");
    if (attempt >= 3 || !/Bind to port|Address already in use/.test(log)) {
      throw new Error(`sshd did not start on 127.0.0.1:${port} (${ready}):\n${log}`);
    }
  }
  const guard = child;
  const user = "root";
  const knownHostsLine = (hashed = false) => {
    const name = `[127.0.0.1]:${port}`;
    if (!hashed) return `${name} ${hostPublicKey}`;
    const salt = randomBytes(20);
    const mac = createHmac("sha1", salt).update(name).digest("base64");
    return `|1|${salt.toString("base64")}|${mac} ${hostPublicKey}`;
  };
  let stopped: Promise<void> | undefined;
  return {
    host: "127.0.0.1",
    port,
    user,
    target: `${user}@127.0.0.1`,
    dir,
    clientKeyPath: clientKey,
    hostPublicKey,
    hostFingerprint,
    knownHostsLine,
    async setUpHome(home, opts = {}) {
      const ssh = join(home, ".ssh");
      await mkdir(ssh, { recursive: true, mode: 0o700 });
      await writeFile(join(ssh, "id_ed25519"), await readFile(clientKey), { mode: 0o600 });
      await writeFile(join(ssh, "id_ed25519.pub"), await readFile(`${clientKey}.pub`));
      if (opts.knownHosts !== false) {
        await writeFile(join(ssh, "known_hosts"), `${knownHostsLine(opts.hashed ?? false)}\n`);
      }
    },
    readLog: () => readFile(logPath, "utf8"),
    stop() {
      stopped ??= (async () => {
        const sshdPid = Number((await readFile(join(dir, "sshd.pid"), "utf8").catch(() => "")).trim());
        const sessions = sshdPid ? await descendantsOf(sshdPid) : [];
        await stopGuard(guard);
        for (const pid of sessions) {
          try {
            process.kill(pid, "SIGTERM");
          } catch {
            // already gone
          }
        }
        await waitFor(() => sessions.every((pid) => !isAlive(pid)), {
          timeoutMs: 10_000,
          what: "sshd sessions to end",
        }).catch(() => undefined);
        await temp.cleanup();
      })();
      return stopped;
    },
  };
}

/** True when something on the port speaks SSH (sends its version banner). */
function sshBanner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once("data", (data) => done(data.toString("latin1").startsWith("SSH-2.0-")));
    socket.once("error", () => done(false));
  });
}

/** Ends the guard shell (closing its stdin), which stops sshd; kills it if it lingers. */
async function stopGuard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.stdin?.end();
  const timer = setTimeout(() => {
    try {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }, 10_000);
  await exited;
  clearTimeout(timer);
  await sleep(0);
}

/** Every live process below `pid` (sshd's per-connection and per-session processes). */
async function descendantsOf(pid: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[1]) parents.set(Number(entry), Number(fields[1]));
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const parent = queue.shift();
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}
