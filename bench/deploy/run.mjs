#!/usr/bin/env node
// bench/deploy: times `tako deploy` of examples/hello to a local host on loopback, through the
// harness sshd exactly as a user deploys (median of 5 runs, each a new version so the artifact is
// uploaded), broken down by step: the client's build steps and the host's Deploy stream steps
// (upload, extract, install, certificates, rollout, routes, activate…). Named peers, measured in
// the same run: `ssh true` (login floor) and `ssh … tar -xz` of the same artifact (transfer floor).
// Writes bench/deploy/results.json and results.md. Usage: npm run build && node bench/deploy/run.mjs
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const { makeTempRoot, startTestHost, startTestSshd } = await import("@tako/testkit");

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const ms = (t0) => Math.round(Number(process.hrtime.bigint() - t0) / 1e6);

const [host, sshd] = await Promise.all([startTestHost(), startTestSshd()]);
const work = await makeTempRoot("bench");
let exitCode = 0;
try {
  const home = join(work.root, "home");
  const app = join(work.root, "hello");
  mkdirSync(home, { recursive: true });
  await sshd.setUpHome(home);
  cpSync(join(REPO, "examples/hello"), app, { recursive: true });
  const env = { ...process.env, HOME: home, TAKO_HOME: join(home, ".config/tako"), SSH_AUTH_SOCK: "" };
  const tako = (args, cwd = REPO) =>
    spawnSync(process.execPath, [join(REPO, "cli/bin/tako.js"), ...args], {
      cwd,
      env,
      encoding: "utf8",
      maxBuffer: 64 << 20,
    });
  const add = tako([
    "servers",
    "add",
    "demo",
    sshd.target,
    "--port",
    String(sshd.port),
    "--root",
    host.root,
    "--ci",
  ]);
  if (add.status !== 0) throw new Error(`servers add failed:\n${add.stderr}`);
  const ssh = [
    "-p",
    String(sshd.port),
    "-i",
    join(home, ".ssh/id_ed25519"),
    "-o",
    `UserKnownHostsFile=${join(home, ".ssh/known_hosts")}`,
    "-o",
    "BatchMode=yes",
    sshd.target,
  ];

  const runs = [];
  for (let i = 1; i <= RUNS; i++) {
    writeFileSync(join(app, "public/run.txt"), `run ${i} ${Date.now()}\n`); // a new version every run
    const t0 = process.hrtime.bigint();
    const r = tako(["deploy", "--json", "--ci"], app);
    const totalMs = ms(t0);
    const out = r.stdout ? JSON.parse(r.stdout) : undefined;
    if (r.status !== 0 || !out?.ok) {
      throw new Error(
        `deploy ${i} failed; a deploy needs the whole daemon set (this build ships: ${(await import("@tako/daemon")).INSTALLED_DAEMONS.join(", ")}):\n${out?.error?.message ?? r.stderr}`,
      );
    }
    const steps = Object.fromEntries((out.servers[0].result.steps ?? []).map((s) => [s.name, s.durationMs]));
    const artifact = out.artifact.path;
    const t1 = process.hrtime.bigint();
    execFileSync("ssh", [...ssh, "true"]);
    const sshLoginMs = ms(t1);
    const t2 = process.hrtime.bigint();
    execFileSync("ssh", [...ssh, `d=$(mktemp -d) && tar -xzf - -C "$d" && rm -rf "$d"`], {
      input: readFileSync(artifact),
    });
    const sshTarMs = ms(t2);
    runs.push({
      run: i,
      version: out.version,
      totalMs,
      build: out.buildMs,
      host: steps,
      sizeBytes: out.artifact.sizeBytes,
      peers: { sshLoginMs, sshTarMs },
    });
    process.stderr.write(`run ${i}: ${totalMs} ms (${out.version})\n`);
  }

  const keys = (pick) => [...new Set(runs.flatMap((r) => Object.keys(pick(r))))];
  const result = {
    what: "tako deploy of examples/hello to a local host on loopback through OpenSSH (harness sshd), new version each run",
    runs: RUNS,
    machine: { node: process.versions.node, cpus: (await import("node:os")).cpus().length },
    date: new Date().toISOString(),
    medianMs: {
      total: median(runs.map((r) => r.totalMs)),
      build: Object.fromEntries(
        keys((r) => r.build).map((k) => [k, median(runs.map((r) => r.build[k] ?? 0))]),
      ),
      host: Object.fromEntries(keys((r) => r.host).map((k) => [k, median(runs.map((r) => r.host[k] ?? 0))])),
      peers: {
        sshLogin: median(runs.map((r) => r.peers.sshLoginMs)),
        sshTarSameArtifact: median(runs.map((r) => r.peers.sshTarMs)),
      },
    },
    runsDetail: runs,
  };
  const dir = join(REPO, "bench/deploy");
  writeFileSync(join(dir, "results.json"), `${JSON.stringify(result, null, 2)}\n`);
  const rows = [
    ["tako deploy, total (CLI start to exit)", result.medianMs.total],
    ...Object.entries(result.medianMs.build).map(([k, v]) => [`client: ${k}`, v]),
    ...Object.entries(result.medianMs.host).map(([k, v]) => [`host: ${k}`, v]),
    ["peer: ssh true (login only)", result.medianMs.peers.sshLogin],
    ["peer: ssh + tar -xz of the same artifact", result.medianMs.peers.sshTarSameArtifact],
  ];
  writeFileSync(
    join(dir, "results.md"),
    `# bench/deploy results\n\n${result.what}. Median of ${RUNS} runs, ${result.date}, Node ${result.machine.node}, ${result.machine.cpus} CPUs (shared with other work).\n\n| step | median ms |\n| --- | ---: |\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join("\n")}\n\nReproduce: \`npm run build && node bench/deploy/run.mjs\`.\n`,
  );
  process.stderr.write(`wrote ${join(dir, "results.md")}\n`);
} catch (err) {
  process.stderr.write(`bench/deploy: ${err.message}\n`);
  exitCode = 1;
} finally {
  await sshd.stop();
  await host.stop();
  await work.cleanup();
}
process.exit(exitCode);
