#!/usr/bin/env node
// bench/deploy: times `tako deploy` of examples/hello to a local host on loopback, through the
// harness sshd exactly as a user deploys (median of 5 redeploys, each a new version so the artifact
// is uploaded; the first deploy is timed apart), broken down by step: the client's build steps and
// the host's Deploy stream steps (upload, extract, install, certificates, rollout, routes,
// activate), the rest being CLI start, SSH session and stream overhead. Named peers, measured in
// the same run: `tako --version` (CLI start floor), `ssh true` (login floor) and `ssh … tar -xz` of
// the same artifact (transfer floor). Writes bench/deploy/results.json and results.md.
// Usage: npm run build && node bench/deploy/run.mjs
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
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
const timed = (fn) => {
  const t0 = process.hrtime.bigint();
  const value = fn();
  return { value, ms: ms(t0) };
};
const load = () => loadavg().map((l) => Number(l.toFixed(2)));

const loadBefore = load();
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
  const add = tako(["servers", "add", "demo", sshd.target, "--port", String(sshd.port), "--root", host.root]);
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

  /** One deploy of a new version, with its breakdown and the peers measured right after it. */
  const deploy = (run) => {
    writeFileSync(join(app, "public/run.txt"), `run ${run} ${Date.now()}\n`); // a new version every run
    const { value: r, ms: totalMs } = timed(() => tako(["deploy", "--json", "--ci"], app));
    const out = r.stdout ? JSON.parse(r.stdout) : undefined;
    if (r.status !== 0 || !out?.ok)
      throw new Error(`deploy ${run} failed:\n${out?.error?.message ?? r.stderr}`);
    const steps = Object.fromEntries((out.servers[0].result.steps ?? []).map((s) => [s.name, s.durationMs]));
    const accounted = [...Object.values(out.buildMs), ...Object.values(steps)].reduce((a, b) => a + b, 0);
    const peers = {
      cliStartMs: timed(() => tako(["--version"])).ms,
      sshLoginMs: timed(() => execFileSync("ssh", [...ssh, "true"])).ms,
      sshTarMs: timed(() =>
        execFileSync("ssh", [...ssh, `d=$(mktemp -d) && tar -xzf - -C "$d" && rm -rf "$d"`], {
          input: readFileSync(out.artifact.path),
        }),
      ).ms,
    };
    process.stderr.write(`run ${run}: ${totalMs} ms (${out.version})\n`);
    return {
      run,
      version: out.version,
      totalMs,
      build: out.buildMs,
      host: steps,
      otherMs: totalMs - accounted,
      sizeBytes: out.artifact.sizeBytes,
      peers,
    };
  };

  const first = deploy(0);
  const runs = Array.from({ length: RUNS }, (_, i) => deploy(i + 1));

  const keys = (pick) => [...new Set(runs.flatMap((r) => Object.keys(pick(r))))];
  const medianOf = (pick) => median(runs.map(pick));
  const result = {
    what: "tako deploy of examples/hello (a new version each run) to a local host on loopback through OpenSSH (the harness sshd), after a first deploy timed apart",
    runs: RUNS,
    machine: { node: process.versions.node, cpus: cpus().length },
    loadAverage: { before: loadBefore, after: load() },
    date: new Date().toISOString(),
    medianMs: {
      total: medianOf((r) => r.totalMs),
      build: Object.fromEntries(keys((r) => r.build).map((k) => [k, medianOf((r) => r.build[k] ?? 0)])),
      host: Object.fromEntries(keys((r) => r.host).map((k) => [k, medianOf((r) => r.host[k] ?? 0)])),
      other: medianOf((r) => r.otherMs),
      peers: {
        cliStart: medianOf((r) => r.peers.cliStartMs),
        sshLogin: medianOf((r) => r.peers.sshLoginMs),
        sshTarSameArtifact: medianOf((r) => r.peers.sshTarMs),
      },
    },
    firstDeploy: first,
    runsDetail: runs,
  };
  const dir = join(REPO, "bench/deploy");
  writeFileSync(join(dir, "results.json"), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(dir, "results.md"), markdown(result));
  // The repository's formatter aligns the tables, so a fresh results.md is lint-clean.
  spawnSync(join(REPO, "node_modules/.bin/biome"), ["format", "--write", join(dir, "results.md")], {
    stdio: "ignore",
  });
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

function markdown(result) {
  const m = result.medianMs;
  const rows = [
    ["**tako deploy, total** (CLI start to exit)", m.total],
    ...Object.entries(m.build).map(([k, v]) => [`client build: ${k}`, v]),
    ...Object.entries(m.host).map(([k, v]) => [`host: ${k}`, v]),
    ["other: CLI start, SSH session, stream set-up and teardown", m.other],
    ["peer: `tako --version` (CLI start only)", m.peers.cliStart],
    ["peer: `ssh true` (login only)", m.peers.sshLogin],
    ["peer: `ssh … tar -xz` of the same artifact", m.peers.sshTarSameArtifact],
  ];
  const detail = result.runsDetail.map((r) => [r.run, r.version, r.totalMs, r.host.rollout ?? 0, r.otherMs]);
  const table = (head, body) =>
    [
      `| ${head.join(" | ")} |`,
      `| ${head.map(() => "---").join(" | ")} |`,
      ...body.map((r) => `| ${r.join(" | ")} |`),
    ].join("\n");
  return `# bench/deploy results

${result.what}. Median of ${result.runs} runs, ${result.date}, Node ${result.machine.node}, ${result.machine.cpus} CPUs shared with other work (load average 1/5/15 min: ${result.loadAverage.before.join(" / ")} before, ${result.loadAverage.after.join(" / ")} after).

${table(["step", "median ms"], rows)}

The first deploy of the app (nothing to replace, no old instance to drain) took ${result.firstDeploy.totalMs} ms, rollout ${result.firstDeploy.host.rollout} ms.

Per run:

${table(["run", "version", "total ms", "rollout ms", "other ms"], detail)}

Reproduce: \`npm run build && node bench/deploy/run.mjs\` (see README.md).
`;
}
