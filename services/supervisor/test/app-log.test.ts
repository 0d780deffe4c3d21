// The log file itself: size-based rotation, and follow() giving every line exactly once.
import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { makeTempRoot } from "@tako/testkit";
import { AppLog } from "../src/logs/app-log.js";
import { readHistory } from "../src/logs/log-history.js";
import type { LogLine } from "../src/logs/log-line.js";

const line = (n: number): LogLine => ({
  timeMs: 1_700_000_000_000 + n,
  source: "out",
  instanceId: "abcd1234",
  text: `line ${n}`,
});

test("current.log is renamed to previous.log once it reaches the rotation size", async () => {
  const temp = await makeTempRoot("log");
  try {
    const log = new AppLog(temp.root, 4096);
    for (let n = 0; n < 300; n++) log.append(line(n));
    await log.close();
    const previous = await readFile(join(temp.root, "previous.log"), "utf8");
    const current = await readFile(join(temp.root, "current.log"), "utf8").catch(() => "");
    assert.ok((await stat(join(temp.root, "previous.log"))).size >= 4096);
    assert.ok(Buffer.byteLength(current) < 4096);
    const all = `${previous}${current}`.trimEnd().split("\n");
    assert.equal(all.at(-1), "2023-11-14T22:13:20.299Z [out] [abcd1234] line 299");
  } finally {
    await temp.cleanup();
  }
});

test("follow() plus the history it pins give every line exactly once, even while lines arrive", async () => {
  const temp = await makeTempRoot("log");
  try {
    const log = new AppLog(temp.root);
    for (let n = 0; n < 100; n++) log.append(line(n));
    const live: LogLine[] = [];
    const pinned = log.follow((l) => live.push(l));
    for (let n = 100; n < 200; n++) log.append(line(n));
    const { snapshot, stop } = await pinned;
    for (let n = 200; n < 300; n++) log.append(line(n));
    const past = await readHistory(snapshot, { sinceMs: 0, tailLines: 0 });
    AppLog.closeSnapshot(snapshot);
    stop();
    await log.close();
    const texts = [...past, ...live].map((l) => l.text);
    assert.deepEqual(
      texts,
      Array.from({ length: 300 }, (_, n) => `line ${n}`),
    );
  } finally {
    await temp.cleanup();
  }
});
