import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { get } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { TakoError } from "@tako/errors";
import { createLogger, DaemonMaster } from "../src/index.js";

const fixture = fileURLToPath(new URL("./fixtures/http-daemon.js", import.meta.url));
const quiet = createLogger({ write: () => undefined });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function fetchPid(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    get({ host: "127.0.0.1", port, agent: false }, (res) => {
      let body = "";
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => resolve(Number(body)));
    }).on("error", reject);
  });
}

test("workers share the master's listening socket: three reloads refuse no connection", async () => {
  const root = await mkdtemp("/tmp/tk-master-");
  const port = await freePort();
  const master = new DaemonMaster({
    name: "edge-proxy",
    entry: fixture,
    args: ["--root", root, "--port", String(port)],
    log: quiet,
    output: "ignore",
  });
  try {
    const pids = [await master.start()];
    let running = true;
    const seen = new Set<number>();
    const failures: string[] = [];
    let requests = 0;
    const load = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (running) {
          try {
            seen.add(await fetchPid(port));
            requests++;
          } catch (err) {
            failures.push(String(err));
          }
        }
      }),
    );
    for (let i = 0; i < 3; i++) {
      await sleep(200);
      const { oldPid, newPid } = await master.reload();
      assert.equal(oldPid, pids.at(-1));
      pids.push(newPid);
    }
    await sleep(200);
    running = false;
    await load;
    assert.deepEqual(failures, []);
    assert.ok(requests > 100, `${requests} requests`);
    assert.equal(new Set(pids).size, 4);
    for (const pid of pids) assert.ok(seen.has(pid), `worker ${pid} served requests`);
  } finally {
    await master.stop({ closeListeners: true, deadlineMs: 5000 });
    await rm(root, { recursive: true, force: true });
  }
});

test("a worker that cannot start is reported with its exit code", async () => {
  const root = await mkdtemp("/tmp/tk-master-");
  try {
    const bad = new DaemonMaster({
      name: "edge-proxy",
      entry: fixture,
      args: ["--root", root, "--port", "nope"],
      log: quiet,
      output: "ignore",
    });
    await assert.rejects(
      bad.start(),
      (err: unknown) => TakoError.is(err, "DAEMON_START_FAILED") && /exit code 78/.test(err.message),
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("a failed reload keeps the old worker serving; concurrent reloads are refused", async () => {
  const root = await mkdtemp("/tmp/tk-master-");
  const port = await freePort();
  const master = new DaemonMaster({
    name: "edge-proxy",
    entry: fixture,
    args: ["--root", root, "--port", String(port)],
    log: quiet,
    output: "ignore",
  });
  try {
    const pid = await master.start();
    await writeFile(join(root, "fail-next-start"), "");
    await assert.rejects(
      master.reload(),
      (err: unknown) => TakoError.is(err, "RELOAD_FAILED") && /exit code 1/.test(err.message),
    );
    assert.equal(master.pid, pid);
    assert.equal(await fetchPid(port), pid, "the first worker still serves");
    await rm(join(root, "fail-next-start"));
    const [first, second] = await Promise.allSettled([master.reload(), master.reload()]);
    assert.equal(first.status, "fulfilled");
    assert.ok(second.status === "rejected" && TakoError.is(second.reason, "RELOAD_IN_PROGRESS"));
    assert.notEqual(await fetchPid(port), pid);
  } finally {
    await master.stop({ closeListeners: true, deadlineMs: 5000 });
    await rm(root, { recursive: true, force: true });
  }
});
