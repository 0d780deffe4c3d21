import { execFile } from "node:child_process";
import { createReadStream, existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { TakoError } from "@tako/errors";
import type { Terminal } from "../output/terminal.js";
import { type ExecResult, type SshSession, shellQuote } from "../ssh/ssh-session.js";

const run = promisify(execFile);

/** The tree this CLI runs from: a source checkout, or an installed bundle (same layout). */
export const TAKO_TREE = fileURLToPath(new URL("../../../../", import.meta.url));
const MIN_NODE = [20, 19];

export interface InstallOptions {
  /** Root directory of the host on the server ("/" for a real server). */
  readonly root: string;
  /** Edge ports for the local-host launcher (where systemd is not PID 1). */
  readonly httpPort?: number | undefined;
  readonly httpsPort?: number | undefined;
}

/** How the installed daemon set was started, with the sentence that says so. */
export type InstallMode =
  | { readonly kind: "systemd"; readonly note: string }
  | { readonly kind: "launcher"; readonly pid1: string; readonly note: string };

/** Where the bundle lands on the server. */
export function installDir(root: string): string {
  return posix.join(root, "usr/lib/tako");
}

/**
 * Ships the daemon set to a server: builds the bundle from this tree (scripts/bundle.mjs),
 * streams it over SSH into <root>/usr/lib/tako, installs the systemd units into
 * <root>/etc/systemd/system and starts tako.target, or, where systemd is not PID 1 (or the root
 * is not "/"), starts the local-host launcher from the installed bundle and says so.
 */
export async function installHost(
  ssh: SshSession,
  options: InstallOptions,
  term: Terminal,
): Promise<InstallMode> {
  const { root } = options;
  const lib = installDir(root);
  const progress = term.progress(`Checking ${ssh.target.name} for Node.js ${MIN_NODE.join(".")}+…`);
  const probe = await ssh.exec(
    "command -v node >/dev/null && node -p process.versions.node; cat /proc/1/comm",
  );
  const [nodeVersion = "", pid1 = "unknown"] = probe.stdout.trim().split("\n");
  const [major = 0, minor = 0] = nodeVersion.split(".").map(Number);
  if (!nodeVersion || major < (MIN_NODE[0] ?? 0) || (major === MIN_NODE[0] && minor < (MIN_NODE[1] ?? 0))) {
    progress.fail(`${ssh.target.name} has no usable Node.js`);
    throw new TakoError(
      "HOST_INSTALL_FAILED",
      `${ssh.target.name} needs Node.js ${MIN_NODE.join(".")} or newer at \`node\` on the PATH; found ${nodeVersion || "none"}`,
      {
        hint: "Install Node.js 20 LTS on the server (e.g. from Debian's or NodeSource's packages) and run the command again.",
      },
    );
  }

  progress.update("Bundling the daemon set from this tree…");
  const work = await mkdtemp(join(tmpdir(), "tako-install-"));
  try {
    const bundle = join(work, "tako-bundle.tar.gz");
    await buildBundle(bundle);
    progress.update(`Uploading the bundle to ${ssh.target.name}:${lib}…`);
    const q = shellQuote(lib);
    await check(
      ssh,
      "unpack the bundle",
      await ssh.exec(
        `set -e; rm -rf ${q}.new; mkdir -p ${q}.new; tar -xzf - -C ${q}.new; ` +
          `if [ -e ${q} ]; then rm -rf ${q}.old; mv ${q} ${q}.old; fi; mv ${q}.new ${q}; rm -rf ${q}.old`,
        { stdin: createReadStream(bundle) },
      ),
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }

  progress.update("Installing the systemd units…");
  const unitsDir = posix.join(root, "etc/systemd/system");
  await check(ssh, "create the units directory", await ssh.exec(`mkdir -p ${shellQuote(unitsDir)}`));
  for (const unit of await unitFiles()) {
    const text = rootedUnit(await readFile(join(TAKO_TREE, "deploy/systemd", unit), "utf8"), root);
    await check(
      ssh,
      `write ${unit}`,
      await ssh.exec(`cat > ${shellQuote(posix.join(unitsDir, unit))}`, { stdin: text }),
    );
  }

  if (root === "/" && pid1 === "systemd") {
    progress.update("Starting tako.target with systemd…");
    await check(
      ssh,
      "start tako.target",
      await ssh.exec(
        "set -e; getent group tako >/dev/null || groupadd --system tako; systemctl daemon-reload; systemctl enable --now tako.target",
      ),
    );
    const note = `Installed Tako on ${ssh.target.name}; tako.target runs under systemd`;
    progress.done(note);
    return { kind: "systemd", note };
  }

  progress.update("Starting the local-host launcher…");
  const ports = [
    ...(options.httpPort ? ["--http-port", String(options.httpPort)] : []),
    ...(options.httpsPort ? ["--https-port", String(options.httpsPort)] : []),
  ];
  const start = [
    "node",
    posix.join(lib, "cli/bin/tako.js"),
    "server",
    "start",
    "--root",
    root,
    "--detach",
    "--ci",
    ...ports,
  ]
    .map(shellQuote)
    .join(" ");
  await check(ssh, "start the local-host launcher", await ssh.exec(start));
  const why = root === "/" ? `systemd is not PID 1 there (PID 1 is ${pid1})` : `the root is ${root}, not /`;
  progress.done(`Installed Tako on ${ssh.target.name} under ${root}`);
  const note =
    `${why}, so the units in ${unitsDir} are not used: started the local-host launcher instead ` +
    `(\`node ${lib}/cli/bin/tako.js server start --root ${root} --detach\`). It does not start again after a reboot.`;
  term.info(note);
  return { kind: "launcher", pid1, note };
}

/** Runs scripts/bundle.mjs of this tree into `file`. */
async function buildBundle(file: string): Promise<void> {
  const script = join(TAKO_TREE, "scripts/bundle.mjs");
  if (!existsSync(script)) {
    throw new TakoError("HOST_INSTALL_FAILED", `this tako CLI cannot bundle itself: ${script} is missing`, {
      hint: "Run `tako servers add --install` from a Tako source checkout (after `npm install`).",
    });
  }
  try {
    await run(process.execPath, [script, "--out", file], { maxBuffer: 16 << 20 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? "";
    throw new TakoError(
      "HOST_INSTALL_FAILED",
      `building the daemon bundle failed: ${stderr.trim() || String(err)}`,
      {
        cause: err,
        hint: "Build the tree first (`npm run build`) and run the command again.",
      },
    );
  }
}

async function unitFiles(): Promise<string[]> {
  const files = await readdir(join(TAKO_TREE, "deploy/systemd"));
  return files.filter((f) => f.endsWith(".service") || f.endsWith(".target")).sort();
}

/**
 * A unit as written for root "/", rewritten for another root: the installed tree is under
 * <root>/usr/lib/tako and the daemons get --root <root>.
 */
export function rootedUnit(text: string, root: string): string {
  if (root === "/") return text;
  return text
    .replaceAll("/usr/lib/tako/", `${posix.join(root, "usr/lib/tako")}/`)
    .replace(/--root \/(?=\s|$)/gm, `--root ${root}`);
}

async function check(ssh: SshSession, what: string, result: ExecResult): Promise<void> {
  if (result.code === 0) return;
  const output = `${result.stderr}${result.stdout}`.trim().split("\n").slice(-20).join("\n");
  throw new TakoError(
    "HOST_INSTALL_FAILED",
    `could not ${what} on ${ssh.target.name} (exit ${result.code}):\n${output}`,
    {
      metadata: { server: ssh.target.name },
    },
  );
}
