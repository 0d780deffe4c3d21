#!/usr/bin/env node
// Cold start of a scaled-to-zero app, side by side with its floor, in one run:
//   tako:  Wake RPC to the supervisor → instance spawned through the SDK entrypoint, fd 3
//          envelope, fd 4 readiness, first health probe → GET / answered.
//   floor: spawn `node floor.mjs` (same minimal server) → port on stdout → GET / answered.
// Rounds alternate between the two. Needs a build (`npm run build`); builds nothing itself.
// Writes results.json and results.md next to this file.
//   node bench/cold-start/run.mjs [--rounds 25]
import { spawn } from "node:child_process";
import { openSync } from "node:fs";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { cpus, loadavg, release as osRelease, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { createLogger } from "@tako/daemon";
import { LocalHost } from "@tako/host";
import { AppState, ReleaseSpecSchema, SupervisorService } from "@tako/proto";
import { createRpcChannel, createRpcClient } from "@tako/rpc";
import { linkSdk } from "@tako/supervisor";

const HERE = dirname(fileURLToPath(import.meta.url));
const argRounds = process.argv.indexOf("--rounds");
const ROUNDS = argRounds > 0 ? Number(process.argv[argRounds + 1]) : 25;
const WARMUP = 2;
const TARGET_RATIO = 1.3;

function get(port) {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => {
      res.resume();
      res.on("end", () =>
        res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`)),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

async function floorRound() {
  const t0 = performance.now();
  // The same clean environment an instance gets (an inherited NODE_EXTRA_CA_CERTS, say, would
  // make node read a CA bundle at start and slow the floor down).
  const child = spawn(process.execPath, [join(HERE, "floor.mjs")], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const port = await new Promise((resolve, reject) => {
    let text = "";
    child.stdout.on("data", (d) => {
      text += d;
      if (text.includes("\n")) resolve(Number.parseInt(text, 10));
    });
    child.once("exit", () => reject(new Error("the floor server exited")));
  });
  await get(port);
  const ms = performance.now() - t0;
  child.kill("SIGKILL");
  await exited;
  return ms;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, check, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  const round = (x) => Math.round(x * 10) / 10;
  return {
    median: round(at(0.5)),
    p90: round(at(0.9)),
    min: round(sorted[0]),
    max: round(sorted.at(-1)),
    samples: samples.map(round),
  };
}

const root = await mkdtemp("/tmp/tk-bench-");
const host = new LocalHost({
  root,
  httpPort: 1,
  httpsPort: 2,
  log: createLogger({ write: () => undefined }),
  daemons: ["supervisor"],
  daemonOutput: openSync(join(root, "daemons.log"), "a"),
});
const loadBefore = loadavg();
try {
  await host.start();
  const channel = createRpcChannel(join(host.paths.runDir, "supervisor.sock"), { timeoutMs: 60_000 });
  const client = createRpcClient(SupervisorService, channel);
  const releaseDir = join(host.paths.appDir("bench", "production"), "releases/v1");
  await mkdir(releaseDir, { recursive: true });
  await cp(join(HERE, "app"), releaseDir, { recursive: true });
  await linkSdk(releaseDir);
  const spec = create(ReleaseSpecSchema, {
    app: "bench",
    env: "production",
    version: "v1",
    releaseDir,
    main: "server.mjs",
    idleTimeoutMs: 1n,
  });
  for await (const _ of client.apply({ release: spec })) {
    // progress
  }
  await client.scale({ app: "bench", env: "production", instances: 0 });
  const idle = async () => {
    const { apps } = await client.status({ app: "bench", env: "production" });
    return apps[0]?.state === AppState.IDLE && apps[0].instances.length === 0;
  };

  async function takoRound() {
    await until("the app to be scaled to zero", idle);
    await sleep(100);
    const t0 = performance.now();
    const { endpoint, coldStart } = await client.wake({ app: "bench", env: "production" });
    await get(endpoint.port);
    const ms = performance.now() - t0;
    if (!coldStart) throw new Error("the wake found a running instance: not a cold start");
    return ms;
  }

  const tako = [];
  const floor = [];
  for (let i = 0; i < ROUNDS + WARMUP; i++) {
    const t = await takoRound();
    await sleep(100);
    const f = await floorRound();
    if (i >= WARMUP) {
      tako.push(t);
      floor.push(f);
    }
    process.stderr.write(
      `round ${i + 1 - WARMUP}: tako ${t.toFixed(1)} ms, floor ${f.toFixed(1)} ms${i < WARMUP ? " (warm-up)" : ""}\n`,
    );
  }
  channel.close();

  const takoStats = stats(tako);
  const floorStats = stats(floor);
  const ratio = Math.round((takoStats.median / floorStats.median) * 100) / 100;
  const result = {
    benchmark: "cold start of a scaled-to-zero app: wake request → first response",
    date: new Date().toISOString(),
    rounds: ROUNDS,
    warmupRounds: WARMUP,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "",
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      kernel: osRelease(),
      runningAsRoot: process.getuid?.() === 0,
    },
    loadAverage: {
      before: loadBefore.map((x) => Math.round(x * 100) / 100),
      after: loadavg().map((x) => Math.round(x * 100) / 100),
    },
    tako: takoStats,
    floor: floorStats,
    ratio,
    target: TARGET_RATIO,
    withinTarget: ratio <= TARGET_RATIO,
  };
  await writeFile(join(HERE, "results.json"), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(
    join(HERE, "results.md"),
    `# Cold start: wake → first response\n\n` +
      `${result.date}, ${ROUNDS} interleaved rounds per side (after ${WARMUP} warm-up rounds), ` +
      `${result.machine.cpus} × ${result.machine.cpuModel}, Node ${result.machine.node}, ` +
      `load average ${result.loadAverage.before.join(" / ")} before, ${result.loadAverage.after.join(" / ")} after.\n\n` +
      `| side | median | p90 | min | max |\n| --- | ---: | ---: | ---: | ---: |\n` +
      `| tako (Wake RPC → spawn via the SDK → fd 4 → probe → GET /) | ${takoStats.median} ms | ${takoStats.p90} ms | ${takoStats.min} ms | ${takoStats.max} ms |\n` +
      `| floor (spawn node on the same server → port on stdout → GET /) | ${floorStats.median} ms | ${floorStats.p90} ms | ${floorStats.min} ms | ${floorStats.max} ms |\n\n` +
      `Ratio of medians: **${ratio}×** (target ≤ ${TARGET_RATIO}×: ${result.withinTarget ? "met" : "not met"}).\n`,
  );
  process.stderr.write(
    `\ntako median ${takoStats.median} ms, floor median ${floorStats.median} ms, ratio ${ratio}\n`,
  );
} finally {
  await host.stop();
  await rm(root, { recursive: true, force: true });
}
