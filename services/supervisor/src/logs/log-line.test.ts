import assert from "node:assert/strict";
import { test } from "node:test";
import { formatLogLine, parseLogLine } from "./log-line.js";

test("a line is formatted as `<ISO ms>Z [source] [instance] text` and parses back", () => {
  const line = {
    timeMs: Date.UTC(2026, 10, 21, 14, 31, 31, 123),
    source: "err" as const,
    instanceId: "k3j9x0qa",
    text: "boom [x] y",
  };
  const text = formatLogLine(line);
  assert.equal(text, "2026-11-21T14:31:31.123Z [err] [k3j9x0qa] boom [x] y\n");
  assert.deepEqual(parseLogLine(text.slice(0, -1)), line);
});

test("server lines about the whole app use `-` for the instance", () => {
  const text = formatLogLine({ timeMs: 0, source: "server", instanceId: "", text: "rolling out release v1" });
  assert.equal(text, "1970-01-01T00:00:00.000Z [server] [-] rolling out release v1\n");
  assert.equal(parseLogLine(text.trimEnd())?.instanceId, "");
});

test("anything not in the format is not a log line", () => {
  for (const text of ["", "hello", "2026-11-21 [out] [a] x", "2026-11-21T14:31:31.123Z [debug] [a] x"]) {
    assert.equal(parseLogLine(text), undefined, text);
  }
});
