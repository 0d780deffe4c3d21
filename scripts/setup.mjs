// Makes a fresh clone ready to run: npm dependencies, the Debian packages a step needs, and a
// build. Used by `npm test` and `npm run demo`; only Node built-ins here (nothing is installed yet).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Commands the test suite runs, and the Debian package that provides each. */
export const TEST_PACKAGES = [
  { command: "curl", pkg: "curl" },
  { command: "systemd-analyze", pkg: "systemd" },
  { command: "openssl", pkg: "openssl" },
  // The CLI's end-to-end tests: a throwaway OpenSSH server on loopback (packages/testkit/src/sshd.ts),
  // its keys, and git for release versions.
  { command: "/usr/sbin/sshd", pkg: "openssh-server" },
  { command: "ssh-keygen", pkg: "openssh-client" },
  { command: "git", pkg: "git" },
  // The supervisor creates a user per app when it runs as root.
  { command: "useradd", pkg: "passwd" },
  // certd: a real ACME server, and a real authoritative DNS server (RFC 2136 updates with TSIG)
  // that pebble validates DNS-01 against; nsupdate feeds it from the test's fake Cloudflare API.
  { command: "pebble", pkg: "pebble" },
  { command: "named", pkg: "bind9" },
  { command: "nsupdate", pkg: "bind9-dnsutils" },
];

/**
 * What `node bench/edge/run.mjs` needs: the load generator and the peers edge-proxy is measured
 * against. Not part of TEST_PACKAGES: the test suite never installs them.
 */
export const BENCH_PACKAGES = [
  { command: "wrk", pkg: "wrk" },
  { command: "nginx", pkg: "nginx" },
  { command: "haproxy", pkg: "haproxy" },
  { command: "caddy", pkg: "caddy" },
  { command: "openssl", pkg: "openssl" },
];

export function step(text) {
  process.stderr.write(`\n▶ ${text}\n`);
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: REPO_ROOT, ...options });
  if (r.status !== 0) {
    throw new Error(
      `\`${[cmd, ...args].join(" ")}\` failed (${r.error?.message ?? `exit code ${r.status}`})`,
    );
  }
}

function hasCommand(command) {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

/**
 * Installs node_modules from package-lock.json when missing or older than the lock. `npm install`
 * rather than `npm ci`: the lock holds only the platform binaries (Biome, buf) the registry
 * mirror here serves, and `npm ci` refuses a lock without every platform's optional entries;
 * `npm install` keeps the locked versions and skips optional packages it cannot get.
 */
export function ensureNodeDeps() {
  const marker = join(REPO_ROOT, "node_modules/.package-lock.json");
  const lock = join(REPO_ROOT, "package-lock.json");
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  step("Installing npm dependencies (npm install from package-lock.json)");
  run("npm", ["install", "--no-audit", "--no-fund"]);
}

/** Installs, with apt-get, the Debian packages whose commands are missing. */
export function ensureSystemPackages(packages) {
  const missing = [...new Set(packages.filter((p) => !hasCommand(p.command)).map((p) => p.pkg))];
  if (missing.length === 0) return;
  step(`Installing Debian packages: ${missing.join(" ")}`);
  const asRoot = process.getuid?.() === 0;
  const sudo = asRoot ? [] : ["sudo", "-n"];
  if (!asRoot && spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status !== 0) {
    throw new Error(
      `these Debian packages are needed and this user cannot install them: ${missing.join(" ")}\n` +
        `  → Run: sudo apt-get install -y ${missing.join(" ")}`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const apt = (...args) =>
    sudo.length
      ? run(sudo[0], [...sudo.slice(1), "apt-get", ...args], { env })
      : run("apt-get", args, { env });
  apt("update", "-qq");
  apt("install", "-y", "-qq", "--no-install-recommends", ...missing);
  const still = packages.filter((p) => !hasCommand(p.command)).map((p) => p.command);
  if (still.length) throw new Error(`installed ${missing.join(" ")} but still missing: ${still.join(" ")}`);
}

/** Compiles every workspace (incremental). */
export function build() {
  step("Building (tsc -b)");
  run(join(REPO_ROOT, "node_modules/.bin/tsc"), ["-b"]);
}

export function nodeVersionOk() {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    throw new Error(`Node ${process.versions.node} is too old: Tako needs Node 20.19 or newer`);
  }
}

export function gitRevision() {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}
