#!/usr/bin/env node
// Benchmark: edge-proxy against nginx, haproxy and caddy, each in front of the same upstream,
// HTTPS with keep-alive (wrk, HTTP/1.1), at 50 and 500 connections, in interleaved rounds;
// medians of the rounds are written to results.json and results.md as ratios to nginx.
//   node bench/edge/run.mjs [--rounds 3] [--duration 10] [--warmup 2] [--connections 50,500]
//     [--peers nginx,haproxy,caddy,naive-1p,naive-2p,edge-proxy]
// A/B runs: "edge-proxy=<another build's main.js>" and "edge-proxy~<NODE_OPTIONS>" are more
// edge-proxy peers (combinable: "edge-proxy=<main.js>~<options>"), interleaved with the rest.
// Installs wrk/nginx/haproxy/caddy with apt-get when missing (scripts/setup.mjs BENCH_PACKAGES);
// everything runs on 127.0.0.1 from configs generated into a temp dir, and is stopped at the end.
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  BENCH_PACKAGES,
  build,
  ensureNodeDeps,
  ensureSystemPackages,
  gitRevision,
  REPO_ROOT,
  step,
} from "../../scripts/setup.mjs";
import { startEdgePeer } from "./edge-peer.mjs";
import { caddyConfig, haproxyConfig, naiveConfig, nginxConfig, upstreamConfig } from "./peers.mjs";
import { runWrk } from "./wrk.mjs";

const { values: opts } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    connections: { type: "string", default: "50,500" },
    peers: { type: "string", default: "nginx,haproxy,caddy,naive-1p,naive-2p,edge-proxy" },
    out: { type: "string", default: join(REPO_ROOT, "bench/edge") },
  },
});
/** Linux's USER_HZ: the unit of utime/stime in /proc/<pid>/stat. */
const CLOCK_TICKS_PER_S = 100;
const rounds = Number(opts.rounds);
const durationS = Number(opts.duration);
const warmupS = Number(opts.warmup);
const connectionCounts = opts.connections.split(",").map(Number);
const peerNames = opts.peers.split(",");

ensureNodeDeps();
ensureSystemPackages(BENCH_PACKAGES);
build();

const dir = await mkdtemp(join(tmpdir(), "tako-bench-"));
const children = new Set();
const stopAll = async () => {
  for (const c of children) c.stop();
  await Promise.all([...children].map((c) => c.exited));
};
process.on("SIGINT", () => void stopAll().then(() => process.exit(130)));

try {
  step("Certificate (ECDSA P-256, the same for every peer)");
  const tls = await makeCertificate(dir);
  const [upstreamPort, ...peerPorts] = await Promise.all(
    Array.from({ length: peerNames.length + 1 }, () => freePort()),
  );
  const upstream = launch("upstream", await upstreamConfig(dir, upstreamPort), dir);
  children.add(upstream);
  await waitPort(upstreamPort);

  const peers = [];
  for (const [i, name] of peerNames.entries()) {
    const port = peerPorts[i];
    if (name.startsWith("edge-proxy")) {
      // "edge-proxy=<main.js>": another build of the daemon, for an A/B run against this one.
      // "edge-proxy~<node options>": with other Node options (e.g. V8 heap flags); both combine.
      const [spec = name, nodeOptions] = name.split("~");
      const entry = spec.includes("=") ? spec.slice(spec.indexOf("=") + 1) : undefined;
      const edge = await startEdgePeer({
        dir,
        port,
        httpPort: await freePort(),
        upstreamPort,
        tls,
        launch,
        entry,
        nodeOptions,
      });
      children.add(edge.process);
      peers.push({ name, port, pid: () => edge.process.pid, info: edge.info });
      continue;
    }
    const config = name.startsWith("naive-")
      ? naiveConfig(port, upstreamPort, tls, name === "naive-2p" ? 2 : 1)
      : name === "nginx"
        ? await nginxConfig(dir, port, upstreamPort, tls)
        : name === "haproxy"
          ? await haproxyConfig(dir, port, upstreamPort, tls)
          : await caddyConfig(dir, port, upstreamPort, tls);
    const child = launch(name, config, dir);
    children.add(child);
    await waitPort(port).catch((err) => {
      throw new Error(`${name} did not start: ${err.message}\n${child.stderr()}`);
    });
    peers.push({ name, port, pid: () => child.pid, info: {} });
  }

  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "",
    node: process.version,
    revision: gitRevision(),
    versions: await peerVersions(),
    loadAverageAtStart: loadavg().map((n) => Number(n.toFixed(2))),
  };
  const runs = [];
  for (const connections of connectionCounts) {
    for (let round = 1; round <= rounds; round++) {
      // Interleaved: every peer once per round, the order rotating so none always goes first.
      const order = peers.map((_, i) => peers[(i + round - 1) % peers.length]);
      for (const peer of order) {
        step(`c=${connections} round ${round}/${rounds}: ${peer.name}`);
        await runWrk({ port: peer.port, connections, durationS: warmupS });
        const sampler = sampleRss(peer.pid());
        const load = loadavg()[0];
        const peerTree = await processTree(peer.pid());
        const upstreamTree = await processTree(upstream.pid);
        const cpuBefore = [await cpuTicks(peerTree), await cpuTicks(upstreamTree)];
        const result = await runWrk({ port: peer.port, connections, durationS });
        const cpuAfter = [await cpuTicks(peerTree), await cpuTicks(upstreamTree)];
        const rssBytes = await sampler.stop();
        const perRequestUs = (i) =>
          Number((((cpuAfter[i] - cpuBefore[i]) * 1e6) / CLOCK_TICKS_PER_S / result.requests).toFixed(1));
        runs.push({
          peer: peer.name,
          connections,
          round,
          loadAverage1m: Number(load.toFixed(2)),
          rssBytes,
          cpuUsPerRequest: perRequestUs(0),
          upstreamCpuUsPerRequest: perRequestUs(1),
          wrkCpuUsPerRequest: Number(((result.wrkCpuS * 1e6) / result.requests).toFixed(1)),
          ...result,
        });
        process.stderr.write(
          `  ${result.requestsPerSec.toFixed(0)} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, errors ${result.errors}, non-2xx ${result.non2xx}, RSS ${(rssBytes / 2 ** 20).toFixed(0)} MiB, CPU ${perRequestUs(0)} µs/request (upstream ${perRequestUs(1)}), load ${load.toFixed(2)}\n`,
        );
      }
    }
  }
  machine.loadAverageAtEnd = loadavg().map((n) => Number(n.toFixed(2)));
  const summary = summarize(
    runs,
    peers.map((p) => p.name),
    connectionCounts,
  );
  const results = {
    date: new Date().toISOString(),
    method: {
      client: `wrk -t2 -c<connections> -d${durationS}s --latency (HTTP/1.1 keep-alive over TLS), ${warmupS} s warm-up per run discarded`,
      rounds,
      interleaved: true,
      upstream: "nginx, 1 worker, fixed 58-byte text body, keep-alive",
      tls: "the same ECDSA P-256 certificate for every peer; OpenSSL defaults for protocol and ciphers",
      edgeProcesses: peers.find((p) => p.name === "edge-proxy")?.info.processes,
    },
    machine,
    summary,
    runs,
  };
  await writeFile(join(opts.out, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(join(opts.out, "results.md"), renderMarkdown(results));
  // The repository's formatter aligns the table, so a fresh results.md is lint-clean.
  spawnSync(join(REPO_ROOT, "node_modules/.bin/biome"), ["format", "--write", join(opts.out, "results.md")], {
    stdio: "ignore",
  });
  step(`Results written to ${join(opts.out, "results.md")}`);
  process.stderr.write(renderMarkdown(results));
} finally {
  await stopAll();
  await rm(dir, { recursive: true, force: true });
}

function launch(name, { command, args, env }, cwd) {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
    detached: false,
  });
  let stderr = "";
  child.stderr.on("data", (c) => {
    stderr = (stderr + c).slice(-4000);
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return {
    name,
    get pid() {
      return child.pid;
    },
    exited,
    stderr: () => stderr,
    stop: () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      setTimeout(() => child.exitCode === null && child.kill("SIGKILL"), 10_000).unref();
    },
  };
}

/** The benchmark certificate (ECDSA P-256, from a throwaway CA), made as the edge's tests make theirs. */
async function makeCertificate(at) {
  const { createTestCa } = await import(join(REPO_ROOT, "services/edge-proxy/dist/test/helpers/certs.js"));
  const ca = await createTestCa();
  try {
    const issued = await ca.issue(["bench.test"]);
    const cert = join(at, "bench.pem");
    const key = join(at, "bench.key");
    const combined = join(at, "bench-combined.pem");
    await writeFile(cert, issued.certPem);
    await writeFile(key, issued.keyPem, { mode: 0o600 });
    await writeFile(combined, issued.certPem + issued.keyPem, { mode: 0o600 });
    return { cert, key, combined, certPem: issued.certPem, keyPem: issued.keyPem };
  } finally {
    await ca.cleanup();
  }
}

function execute(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c) => {
      out += c;
    });
    child.stderr.on("data", (c) => {
      out += c;
    });
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} failed: ${out}`))));
  });
}

async function peerVersions() {
  const first = async (cmd, args) => (await execute(cmd, args).catch((e) => e.message)).split("\n")[0].trim();
  return {
    nginx: await first("nginx", ["-v"]),
    haproxy: await first("haproxy", ["-v"]),
    caddy: await first("caddy", ["version"]),
    // wrk -v prints its version and exits non-zero.
    wrk: (await execute("wrk", ["-v"]).catch((e) => e.message.replace(/^wrk failed: /, "")))
      .split("\n")[0]
      .trim(),
    openssl: await first("openssl", ["version"]),
  };
}

async function freePort() {
  const { createServer } = await import("node:net");
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitPort(port, timeoutMs = 30_000) {
  const { connect } = await import("node:net");
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A process and all its descendants. */
async function processTree(rootPid) {
  const parents = new Map();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    parents.set(Number(entry), ppid);
  }
  const tree = new Set([rootPid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parents) if (tree.has(ppid) && !tree.has(pid)) grew = tree.add(pid) && true;
  }
  return tree;
}

/** CPU time (user + system, every thread) the processes have used so far, in clock ticks. */
async function cpuTicks(pids) {
  let total = 0;
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of stat (utime, stime); the slice starts at field 3.
    total += Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  }
  return total;
}

/** RSS of a process and all its descendants, sampled every 500 ms; the maximum is kept. */
function sampleRss(rootPid) {
  let max = 0;
  const sample = async () => {
    const tree = await processTree(rootPid);
    let total = 0;
    for (const pid of tree) {
      const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
      total += Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    }
    max = Math.max(max, total);
  };
  const timer = setInterval(() => void sample(), 500);
  return {
    stop: async () => {
      clearInterval(timer);
      await sample();
      return max;
    },
  };
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function summarize(runs, names, counts) {
  const out = [];
  for (const connections of counts) {
    const rows = names.map((peer) => {
      const mine = runs.filter((r) => r.peer === peer && r.connections === connections);
      return {
        peer,
        connections,
        requestsPerSec: Math.round(median(mine.map((r) => r.requestsPerSec))),
        p50Ms: round2(median(mine.map((r) => r.p50Ms))),
        p99Ms: round2(median(mine.map((r) => r.p99Ms))),
        errors: mine.reduce((n, r) => n + r.errors, 0),
        non2xx: mine.reduce((n, r) => n + r.non2xx, 0),
        rssBytes: median(mine.map((r) => r.rssBytes)),
        cpuUsPerRequest: round1(median(mine.map((r) => r.cpuUsPerRequest))),
        upstreamCpuUsPerRequest: round1(median(mine.map((r) => r.upstreamCpuUsPerRequest))),
        wrkCpuUsPerRequest: round1(median(mine.map((r) => r.wrkCpuUsPerRequest))),
        loadAverage1m: median(mine.map((r) => r.loadAverage1m)),
      };
    });
    const base = rows.find((r) => r.peer === "nginx");
    const naive1 = rows.find((r) => r.peer === "naive-1p");
    const naive2 = rows.find((r) => r.peer === "naive-2p");
    for (const r of rows) {
      r.ratioToNginx = base
        ? {
            requestsPerSec: round2(r.requestsPerSec / base.requestsPerSec),
            p50: round2(r.p50Ms / base.p50Ms),
            p99: round2(r.p99Ms / base.p99Ms),
            rss: round2(r.rssBytes / base.rssBytes),
            cpuUsPerRequest: round2(r.cpuUsPerRequest / base.cpuUsPerRequest),
          }
        : undefined;
      // req/s against the issue's naive http-proxy-3 peers (one process, 2-process cluster).
      r.ratioToNaive = {
        oneProcess: naive1 ? round2(r.requestsPerSec / naive1.requestsPerSec) : undefined,
        cluster: naive2 ? round2(r.requestsPerSec / naive2.requestsPerSec) : undefined,
      };
      out.push(r);
    }
  }
  return out;
}

function round1(n) {
  return Math.round(n * 10) / 10;
}

function round2(n) {
  return Math.round(n * 100) / 100;
}

function renderMarkdown(results) {
  const lines = [
    "# edge-proxy benchmark",
    "",
    `${results.date}, revision ${results.machine.revision}. Generated by \`node bench/edge/run.mjs\`; raw runs in results.json.`,
    "",
    `- Client: ${results.method.client}; ${results.method.rounds} interleaved rounds, medians.`,
    `- Upstream (shared): ${results.method.upstream}.`,
    `- TLS: ${results.method.tls}.`,
    `- edge-proxy processes per generation: ${results.method.edgeProcesses}.`,
    "- naive-1p / naive-2p: the issue's reference peers, a naive http-proxy-3 proxy (https.createServer → proxy.web, an upstream keep-alive agent, nothing else) in one process and in a 2-process node:cluster (bench/edge/naive-proxy.mjs).",
    `- Machine: ${results.machine.cpus} × ${results.machine.cpuModel}, Node ${results.machine.node}; load average (1/5/15 min) at start ${results.machine.loadAverageAtStart.join(" / ")}, at end ${results.machine.loadAverageAtEnd.join(" / ")}.`,
    `- Peers: ${Object.values(results.machine.versions).join("; ")}.`,
    "",
    "| connections | peer | req/s | ×nginx | ×naive 1p | ×naive 2p | p50 ms | ×nginx | p99 ms | ×nginx | errors | non-2xx | RSS MiB | ×nginx | CPU µs/req | ×nginx |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of results.summary) {
    const x = r.ratioToNginx ?? {};
    const n = r.ratioToNaive ?? {};
    lines.push(
      `| ${r.connections} | ${r.peer} | ${r.requestsPerSec.toFixed(0)} | ${x.requestsPerSec ?? "–"} | ${n.oneProcess ?? "–"} | ${n.cluster ?? "–"} | ${r.p50Ms} | ${x.p50 ?? "–"} | ${r.p99Ms} | ${x.p99 ?? "–"} | ${r.errors} | ${r.non2xx} | ${(r.rssBytes / 2 ** 20).toFixed(0)} | ${x.rss ?? "–"} | ${r.cpuUsPerRequest} | ${x.cpuUsPerRequest ?? "–"} |`,
    );
  }
  lines.push(
    "",
    "CPU µs/req: user + system CPU time of the peer's whole process tree (every process and thread, from /proc/<pid>/stat) during the run, divided by the requests wrk completed; the shared upstream and wrk itself are not included (they are in results.json: `upstreamCpuUsPerRequest`, `wrkCpuUsPerRequest`). It is far less sensitive to other load on the machine than req/s.",
    "",
  );
  return `${lines.join("\n")}\n`;
}
