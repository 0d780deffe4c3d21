import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger } from "./logger.js";

test("log lines are JSON with ts, level, constant msg and fields, children adding theirs", () => {
  const lines: string[] = [];
  const log = createLogger({
    fields: { daemon: "agentd" },
    write: (l) => lines.push(l),
    now: () => new Date("2026-01-02T03:04:05.000Z"),
  });
  log.child({ app: "web" }).info("deploy started", { version: "abc", skipped: undefined });
  log.debug("not shown at info");
  log.error("failed", { error: new Error("boom") });
  assert.equal(lines.length, 2);
  assert.ok(lines.every((l) => l.endsWith("\n")));
  assert.deepEqual(JSON.parse(lines[0] ?? ""), {
    ts: "2026-01-02T03:04:05.000Z",
    level: "info",
    msg: "deploy started",
    daemon: "agentd",
    app: "web",
    version: "abc",
  });
  const second = JSON.parse(lines[1] ?? "");
  assert.equal(second.error.message, "boom");
  assert.match(second.error.stack, /Error: boom/);
});
